using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>
/// FrEIA's SequenceINN (FrEIA/framework/sequence_inn.py) for <see cref="AllInOneBlock"/>s: the blocks applied in
/// order (in reverse order, each inverted, for the reverse direction), their log-dets summed. Every conditional block
/// receives the same condition, as in CFlow-AD, which appends each block with <c>cond=0</c>. State names are FrEIA's:
/// module_list.{i}.*.
/// </summary>
public sealed class SequenceInn : nn.Module
{
    private readonly ModuleList<AllInOneBlock> module_list; // FrEIA's name

    public SequenceInn(IEnumerable<AllInOneBlock> blocks) : base(nameof(SequenceInn))
    {
        module_list = nn.ModuleList(blocks.ToArray());
        if (module_list.Count == 0) throw new ArgumentException("A flow needs at least one block.", nameof(blocks));
        RegisterComponents();
    }

    public IReadOnlyList<AllInOneBlock> Blocks => [.. module_list];

    /// <summary>z and log|det ∂z/∂x| [N] of <paramref name="x"/>, or with <paramref name="reverse"/> x and log|det ∂x/∂z| of z.</summary>
    public (Tensor Output, Tensor LogDet) Forward(Tensor x, Tensor? condition = null, bool reverse = false)
    {
        using var scope = NewDisposeScope();
        Tensor? logDet = null;
        foreach (var block in reverse ? module_list.Reverse() : module_list)
        {
            (x, var j) = block.Forward(x, block.ConditionChannels == 0 ? null : condition, reverse);
            logDet = logDet is null ? j : j + logDet; // FrEIA: log_det_jac = j + log_det_jac, from 0
        }
        return (x.MoveToOuterDisposeScope(), logDet!.MoveToOuterDisposeScope());
    }
}
