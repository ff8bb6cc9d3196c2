using Vigil.Imaging;

namespace Vigil.Tests.Metrics;

internal static class TestMasks
{
    /// <summary>An h×w mask with the given row-major pixel indices set.</summary>
    public static BinaryMask Mask(int h, int w, params int[] defective)
    {
        var m = new BinaryMask(h, w);
        foreach (int i in defective) m.Data[i] = true;
        return m;
    }
}
