using System.Runtime.InteropServices;
using Vigil.Benchmark;
using Vigil.Records;

namespace Vigil.Tests.Benchmark;

public class PeakMemoryTests
{
    [Fact]
    public void ResetForgetsAnEarlierPeak()
    {
        const long size = 400L << 20;
        var buffer = Marshal.AllocHGlobal((nint)size);
        for (long offset = 0; offset < size; offset += 4096) Marshal.WriteByte(buffer + (nint)offset, 1); // touch every page: it becomes resident
        long withBuffer = PeakMemory.Peak();
        Marshal.FreeHGlobal(buffer); // a block this large is unmapped at once, so the resident size falls back
        Assert.True(PeakMemory.Reset(), "resetting the peak is supported on Linux");
        long afterReset = PeakMemory.Peak();
        Assert.True(afterReset < withBuffer - (size / 2), $"peak {withBuffer >> 20} MiB with the buffer, {afterReset >> 20} MiB after the reset");
    }
}
