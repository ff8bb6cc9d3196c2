using Vigil.Detectors.Trained;

namespace Vigil.Detectors.CFlow;

/// <summary>CFlow-AD settings; defaults follow the official code (gudovskiy/cflow-ad, config.py, main.py, train.py): <see cref="ConditionalFlowOptions"/>'s.</summary>
public sealed record CFlowOptions : ConditionalFlowOptions
{
    protected override string Method => "CFlow";
}
