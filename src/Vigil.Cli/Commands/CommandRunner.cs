using System.Runtime.InteropServices;

namespace Vigil.Cli.Commands;

/// <summary>
/// Runs a command body with a cancellation token that Ctrl+C and SIGTERM cancel (a second Ctrl+C kills at once), and
/// turns user-fixable problems into one clear message instead of a stack trace.
/// </summary>
internal static class CommandRunner
{
    public const int Failed = 1, InputError = 2, Interrupted = 130;

    public static int Run(Func<CancellationToken, int> body)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return; // a second Ctrl+C ends the process
            e.Cancel = true;
            Console.Error.WriteLine("stopping after the current step (Ctrl+C again to stop at once)…");
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancel.Cancel();
        });
        try
        {
            return body(cancel.Token);
        }
        catch (VigilInterruptedException e)
        {
            Console.Error.WriteLine($"interrupted: {e.Message}");
            return Interrupted;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("interrupted: finished cells are kept in the results store and an unfinished training in its checkpoint; run the same command again to continue.");
            return Interrupted;
        }
        catch (VigilInputException e)
        {
            // Plain text on stderr: unwrapped in logs, and apart from the results on stdout.
            Console.Error.WriteLine($"error: {e.Message}");
            return InputError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: could not read or write a file: {e.Message}");
            return Failed;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
