using Spectre.Console;

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
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return InputError;
        }
    }
}
