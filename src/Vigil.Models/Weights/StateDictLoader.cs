using TorchSharp;
using static TorchSharp.torch.nn;

namespace Vigil.Weights;

/// <summary>Copies a <see cref="StateDict"/> into a module's parameters and buffers by name, strictly.</summary>
public static class StateDictLoader
{
    private const int MaxListed = 40;

    /// <summary>
    /// Copies every tensor of <paramref name="state"/> into the same-named parameter or buffer of
    /// <paramref name="module"/> (converting float16/bfloat16 to the module's dtype). Missing keys, unexpected keys
    /// and shape mismatches are reported together in one <see cref="VigilInputException"/>, and nothing is copied.
    /// BatchNorm's num_batches_tracked may be absent, as in checkpoints saved before PyTorch 0.4.1: it only
    /// matters for training with momentum=None, and PyTorch's own loader tolerates it the same way.
    /// </summary>
    public static void Load(Module module, StateDict state)
    {
        var target = module.state_dict();
        var missing = target.Keys.Where(k => !state.TryGetValue(k, out _) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        var unexpected = state.Keys.Where(k => !target.ContainsKey(k)).ToList();
        var mismatched = state.Keys.Where(target.ContainsKey)
            .Where(k => !state[k].shape.SequenceEqual(target[k].shape))
            .Select(k => $"{k}: file [{string.Join(", ", state[k].shape)}], model [{string.Join(", ", target[k].shape)}]")
            .ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add(List("missing keys (in the model, not in the file)", missing));
            if (unexpected.Count > 0) parts.Add(List("unexpected keys (in the file, not in the model)", unexpected));
            if (mismatched.Count > 0) parts.Add(List("shape mismatches", mismatched));
            throw new VigilInputException($"{state.Source} does not match the {module.GetName()} model: " + string.Join("; ", parts) +
                ". Use weights saved from the same architecture (torchvision names).");
        }
        using var noGrad = torch.no_grad();
        foreach (var key in state.Keys) target[key].copy_(state[key]);
    }

    private static string List(string what, List<string> items) =>
        $"{items.Count} {what}: " + string.Join(", ", items.Take(MaxListed)) + (items.Count > MaxListed ? $", … and {items.Count - MaxListed} more" : "");
}
