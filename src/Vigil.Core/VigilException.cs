namespace Vigil;

/// <summary>
/// A problem with the user's input (a file, a folder layout, a name, an option) that the user can fix.
/// The message names the offending file or value and says what to do; front ends print it without a stack trace.
/// </summary>
public class VigilInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Work stopped on request (Ctrl+C, SIGTERM, a cancelled job) with something kept to continue from; the message says
/// what was kept and how to continue. Front ends print it instead of a generic "interrupted".
/// </summary>
public class VigilInterruptedException(string message, Exception? inner = null, CancellationToken token = default)
    : OperationCanceledException(message, inner, token);
