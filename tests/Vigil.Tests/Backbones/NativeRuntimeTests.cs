using System.Runtime.InteropServices;
using Vigil.Backbones;

namespace Vigil.Tests.Backbones;

public class NativeRuntimeTests
{
    [Fact]
    public void LibtorchsOpenMpThreadsAreToldToSleepUnlessTheUserChoseAPolicy()
    {
        string? chosen = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        NativeRuntime.PrepareEnvironment();
        // Read back the way libgomp reads it: the C library's environment, which .NET's own setter does not write on Unix.
        Assert.Equal(chosen ?? "PASSIVE", Marshal.PtrToStringUTF8(getenv("OMP_WAIT_POLICY")));
    }

    [DllImport("libc")]
    private static extern IntPtr getenv(string name);
}
