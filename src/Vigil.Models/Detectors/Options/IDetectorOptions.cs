namespace Vigil.Detectors.Options;

/// <summary>
/// A detector's options: a record whose settable properties carry <see cref="OptionAttribute"/>, defaults from its
/// parameterless constructor (the published defaults). <see cref="OptionSchema"/> reads and writes them by key.
/// </summary>
public interface IDetectorOptions
{
    /// <summary>Checks ranges and combinations; a bad value is a <see cref="VigilInputException"/> saying what is allowed.</summary>
    void Validate();
}

/// <summary>Names a detector option for the command line, config files and model files, and says what it does.</summary>
/// <param name="key">The key users write, e.g. "coreset" in <c>-m patchcore:coreset=0.01</c>.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string key, string description) : Attribute
{
    public string Key { get; } = key;
    public string Description { get; } = description;
}
