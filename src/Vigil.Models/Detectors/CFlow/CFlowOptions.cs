using Vigil.Detectors.Trained;
using Vigil.Training;

namespace Vigil.Detectors.CFlow;

/// <summary>CFlow-AD settings; defaults follow the official code (gudovskiy/cflow-ad, config.py, main.py, train.py).</summary>
public sealed record CFlowOptions : ConditionalFlowOptions
{
    public CFlowOptions()
    {
        // config.py: 25 meta-epochs of 8 sub-epochs (a sub-epoch is one pass over the loader), batch 32, Adam lr 2e-4.
        Epochs = 25 * 8;
        BatchSize = 32;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 2e-4;
        // main.py + utils.py: cosine from lr to lr · 0.1³ over the 25 meta-epochs, set once per meta-epoch
        // (adjust_learning_rate), and a per-step linear warm-up over the first 2 meta-epochs from lr / 10 to the cosine's
        // value at meta-epoch 2 (warmup_learning_rate).
        Schedule = ScheduleKind.Cosine;
        MinLearningRate = 1e-3;
        CosineEvery = 8;
        CosineFromStart = true;
        WarmupEpochs = 2 * 8;
        WarmupFrom = 0.1;
    }

    protected override string Method => "CFlow";
}
