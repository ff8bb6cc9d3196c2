using TorchSharp;

namespace Vigil.Weights;

/// <summary>
/// Named tensors read from a weight file (parameters and buffers, in file order), as in PyTorch's state_dict.
/// Owns its tensors: disposing it disposes them.
/// </summary>
public sealed class StateDict : IDisposable
{
    private readonly Dictionary<string, torch.Tensor> _tensors = [];
    private readonly List<string> _keys = [];

    /// <summary>The file the tensors came from, named in error messages.</summary>
    public string Source { get; }

    public StateDict(string source) => Source = source;

    public IReadOnlyList<string> Keys => _keys;

    public int Count => _keys.Count;

    public torch.Tensor this[string key] => _tensors[key];

    public bool TryGetValue(string key, out torch.Tensor tensor) => _tensors.TryGetValue(key, out tensor!);

    /// <summary>Adds a tensor; the state dict takes ownership of it.</summary>
    public void Add(string key, torch.Tensor tensor)
    {
        if (!_tensors.TryAdd(key, tensor))
            throw new VigilInputException($"{Source} holds the tensor '{key}' twice; the file is damaged or not a state_dict.");
        _keys.Add(key);
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _keys.Clear();
    }
}
