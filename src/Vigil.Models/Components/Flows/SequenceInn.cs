using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>
/// FrEIA's SequenceINN (FrEIA/framework/sequence_inn.py) for <see cref="AllInOneBlock"/>s: the blocks applied in
/// order (in reverse order, each inverted, for the reverse direction), their log-dets summed. Every block receives
/// the same condition, as in CFlow, where each block is appended with <c>cond=0</c>.
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
        var logDet = zeros(x.shape[0], dtype: x.dtype);
        var order = reverse ? module_list.Reverse() : module_list;
        foreach (var block in order)
        {
            (x, var j) = block.Forward(x, condition, reverse);
            logDet = j + logDet;
        }
        return (x.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope());
    }
}
