using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>Nearest-neighbour search over a fixed bank: exact (<see cref="NearestNeighbourIndex"/>) or approximate (<see cref="InvertedFileIndex"/>).</summary>
public interface INearestNeighbourSearch : IDisposable
{
    /// <summary>Rows of the bank.</summary>
    int Count { get; }

    /// <summary>For each query row [M, D], the squared distance to its nearest bank row found and that row's index: float [M], int64 [M].</summary>
    (Tensor SquaredDistances, Tensor Indices) Search(Tensor queries);
}
