namespace Vigil.Training;

/// <summary>
/// An optimizer of its own for a trained module whose reference code optimises it apart from the others (SimpleNet:
/// AdamW on the feature adaptor beside Adam on the discriminator). Its learning rate follows the options' schedule in
/// proportion: <see cref="LearningRate"/> · (scheduled rate / the options' lr). <see cref="AmsGrad"/>: Adam/AdamW's AMSGrad variant.
/// </summary>
public sealed record OptimizerSettings(OptimizerKind Kind, double LearningRate, double WeightDecay, double Beta1 = 0.9, double Beta2 = 0.999, double Momentum = 0,
    bool AmsGrad = false);
