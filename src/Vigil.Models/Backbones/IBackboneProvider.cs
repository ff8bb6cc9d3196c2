namespace Vigil.Backbones;

/// <summary>Opens the frozen backbone a run uses, returning the layers a detector reads.</summary>
public interface IBackboneProvider
{
    /// <summary>The backbone's name, e.g. "mobilenetv2_int8_onnx".</summary>
    string Name { get; }

    /// <summary>A new extractor returning <paramref name="layers"/> (the caller owns and disposes it).</summary>
    IFeatureExtractor Open(IReadOnlyList<string> layers);
}

/// <summary>Opens the backbone a model file's <see cref="BackboneReference"/> names (the caller checks it against the reference).</summary>
public delegate IFeatureExtractor BackboneResolver(BackboneReference reference);
