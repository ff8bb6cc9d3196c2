using Vigil.Backbones;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.UseCases;

/// <summary>How images reach the network and where pixel metrics are computed (docs/protocol.md).</summary>
public enum InputProtocol
{
    /// <summary>The backbone's input geometry (its default, or --resize/--crop) for every model; pixel metrics on the whole image at its ground truth's size.</summary>
    Backbone,

    /// <summary>
    /// Each model's reference code: its resize, crop, filter and mask rule (torchvision's short side 256, centre crop
    /// 224 for PatchCore, PaDiM and SPADE), pixel metrics in that view, as the reference code computes them.
    /// </summary>
    Reference,
}

internal static class InputProtocols
{
    /// <summary>The backbone a model runs under the protocol: the reference input when the protocol asks for it and the model has one.</summary>
    public static BackboneChoice BackboneFor(this InputProtocol protocol, ModelSpec model, BackboneChoice backbone) =>
        protocol == InputProtocol.Reference && model.Module.Info.ReferenceInput is { } input ? backbone.WithInput(input) : backbone;

    /// <summary>
    /// The evaluation under the protocol: in the network's view when the model runs its reference input. A tiled model
    /// has no single view (each tile has its own): it is evaluated at image resolution.
    /// </summary>
    public static EvaluationOptions EvaluationFor(this InputProtocol protocol, ModelSpec model, EvaluationOptions evaluation) =>
        protocol == InputProtocol.Reference && model.Module.Info.ReferenceInput is not null && model.Tiling is null
            ? evaluation with { Resolution = EvaluationResolution.View } : evaluation;

    /// <summary>
    /// The model as the request runs it: tiled when the request asks for tiles. Tiling does not combine with the
    /// reference protocol, which resizes and crops whole images as each model's reference code does.
    /// </summary>
    public static ModelSpec WithTiling(this InputProtocol protocol, ModelSpec model, Tiling? tiling)
    {
        if (tiling is null) return model;
        if (protocol == InputProtocol.Reference)
            throw new VigilInputException("--tile cuts images into tiles at full resolution, and --protocol reference resizes and crops whole images as each model's reference code does; use one of them.");
        return model with { Tiling = tiling };
    }
}
