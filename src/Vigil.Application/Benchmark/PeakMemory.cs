using System.Diagnostics;

namespace Vigil.Benchmark;

/// <summary>
/// The process's peak resident memory, per cell: the kernel keeps one high-water mark for the process's lifetime, so
/// without a reset every cell after the largest would report that cell's peak.
/// </summary>
public static class PeakMemory
{
    /// <summary>Starts a new high-water mark at the current resident size (Linux: "5" written to /proc/self/clear_refs). False where unsupported.</summary>
    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Bytes: the highest resident size since the last <see cref="Reset"/> (or since the process started).</summary>
    public static long Peak()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
