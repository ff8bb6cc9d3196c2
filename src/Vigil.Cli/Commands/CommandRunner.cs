namespace Vigil.Cli.Commands;

/// <summary>Runs a command body and turns user-fixable problems into one clear message instead of a stack trace.</summary>
internal static class CommandRunner
{
    public const int InputError = 2;

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (VigilInputException e)
        {
            // Plain text on stderr: unwrapped in logs, and apart from the results on stdout.
            Console.Error.WriteLine($"error: {e.Message}");
            return InputError;
        }
    }
}
