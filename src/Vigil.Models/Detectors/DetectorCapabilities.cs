namespace Vigil.Detectors;

/// <summary>What a detector can do beyond fitting on normal images and scoring.</summary>
[Flags]
public enum DetectorCapabilities
{
    None = 0,

    /// <summary>Produces a meaningful pixel anomaly map (pixel metrics are computed for it).</summary>
    PixelMaps = 1,

    /// <summary>Learns from labelled anomalies (<see cref="TrainingData.Anomalies"/>) in the supervised setting.</summary>
    Supervised = 2,

    /// <summary>Its trainer is an <see cref="IContinualTrainer"/>: runs in the continual setting.</summary>
    Continual = 4,

    /// <summary>Trains a network by gradient descent (epochs, checkpoints), rather than one pass over frozen features.</summary>
    GradientTrained = 8,
}
