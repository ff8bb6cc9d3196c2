using System.Runtime.InteropServices;
using TorchSharp;

namespace Vigil.Backbones;

/// <summary>Process-wide settings of the native libraries (libtorch, ONNX Runtime, glibc's allocator), made once.</summary>
public static class NativeRuntime
{
    private static int _done;

    /// <summary>
    /// libtorch's intra-op threads (and those of the torchvision ResNets' ONNX Runtime sessions, <see cref="Threads"/>): one per core, or $VIGIL_THREADS when set. The override matters on shared machines:
    /// libtorch's OpenMP threads wait on each other at every operator, so when other processes occupy the cores, fewer
    /// threads run faster (measured here under load: ResNet18 batch 1 took ~800 ms per image with 2 threads, ~100 ms
    /// with 1). On Linux also glibc's allocator: by default it raises its mmap threshold to the size of each large
    /// block freed (up to 32 MiB) and keeps freed heap memory, so a fit's resident size kept the high-water mark of
    /// every tensor temporary it ever made; a fixed 256 KiB threshold and trimming at every free return them to the
    /// system (PaDiM fit on synthetic wood: peak RSS 1.50 → 1.10 GB).
    /// </summary>
    public static void Configure()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        PrepareEnvironment();
        torch.set_num_threads(Threads);
        if (OperatingSystem.IsLinux()) ReturnFreedMemory();
    }

    /// <summary>
    /// Makes libtorch's OpenMP threads sleep as soon as an operator ends (OMP_WAIT_POLICY=PASSIVE) unless the user set a
    /// policy. By default they spin on their core for a while after every operator, and the .NET threads that run
    /// Vigil's own parallel loops between operators (embedding, index scans) then share the cores with spinning threads:
    /// PatchCore-1 % predict on MTD at 224², 2 threads, p50 114–133 ms with spinning, 100–106 ms without. libgomp reads
    /// the variable once, when libtorch is loaded, so front ends call this before anything touches libtorch; later calls
    /// change nothing that is already loaded.
    /// </summary>
    public static void PrepareEnvironment()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(WaitPolicy) is not null) return;
        try
        {
            setenv(WaitPolicy, "PASSIVE", 0); // the process environment native libraries read, which .NET's setter does not write on Unix
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // No C library to ask: libtorch keeps its default.
        }
    }

    private const string WaitPolicy = "OMP_WAIT_POLICY";

    /// <summary>Intra-op threads for libtorch and for the ONNX Runtime sessions that ask: $VIGIL_THREADS, else one per core.</summary>
    public static int Threads => Requested() ?? Environment.ProcessorCount;

    private static int? Requested()
    {
        var text = Environment.GetEnvironmentVariable("VIGIL_THREADS");
        if (string.IsNullOrWhiteSpace(text)) return null;
        return int.TryParse(text, out int n) && n > 0 ? n
            : throw new VigilInputException($"VIGIL_THREADS='{text}' must be a positive whole number of threads (or unset for one per core).");
    }

    private const int TrimThreshold = -1, MmapThreshold = -3; // glibc's M_TRIM_THRESHOLD, M_MMAP_THRESHOLD

    private static void ReturnFreedMemory()
    {
        try
        {
            mallopt(MmapThreshold, 256 << 10);
            mallopt(TrimThreshold, 0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc (musl has a no-op mallopt, others none): the allocator's own policy stays.
        }
    }

    [DllImport("libc")]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc")]
    private static extern int setenv(string name, string value, int overwrite);
}
