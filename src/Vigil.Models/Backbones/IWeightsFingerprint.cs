namespace Vigil.Backbones;

/// <summary>
/// Implemented by feature extractors that know the SHA-256 of their weight file, so a saved model records
/// exactly which weights its memory bank came from.
/// </summary>
public interface IWeightsFingerprint
{
    /// <summary>Lower-case hex SHA-256 of the weight file.</summary>
    string WeightsSha256 { get; }
}
