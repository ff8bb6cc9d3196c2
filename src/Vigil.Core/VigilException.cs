namespace Vigil;

/// <summary>
/// A problem with the user's input (a file, a folder layout, a name, an option) that the user can fix.
/// The message names the offending file or value and says what to do; front ends print it without a stack trace.
/// </summary>
public class VigilInputException(string message, Exception? inner = null) : Exception(message, inner);
