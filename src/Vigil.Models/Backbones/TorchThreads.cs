using TorchSharp;

namespace Vigil.Backbones;

/// <summary>Sets libtorch's intra-op thread count once per process.</summary>
public static class TorchThreads
{
    private static int _done;

    /// <summary>Uses one thread per core (libtorch's default can differ under container CPU limits).</summary>
    public static void UseAllCores()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0) torch.set_num_threads(Environment.ProcessorCount);
    }
}
