using System.Runtime.InteropServices;
using OpenCvSharp;
using Vigil.Components;

namespace Vigil.Tests.Components;

public class GaussianBlurTests
{
    [Theory]
    [InlineData(4.0, 33)]  // 2·⌊16.5⌋ + 1, the reference methods' σ
    [InlineData(1.0, 9)]
    [InlineData(0.6, 5)]   // 2·⌊2.9⌋ + 1
    public void KernelSizeFollowsTheTruncationRule(double sigma, int size) => Assert.Equal(size, GaussianBlur.KernelSize(sigma));

    [Theory]
    [InlineData(40, 50, 4.0)]
    [InlineData(10, 12, 4.0)]  // kernel radius 16 exceeds the map: mirroring repeats
    [InlineData(31, 17, 1.5)]
    public void MatchesOpenCvGaussianBlurWithReflectBorders(int height, int width, double sigma)
    {
        var random = new Random(height * 100 + width);
        var map = Enumerable.Range(0, height * width).Select(_ => (float)random.NextDouble() * 10).ToArray();
        var ours = GaussianBlur.Apply(map, height, width, sigma);

        int size = GaussianBlur.KernelSize(sigma);
        using var src = Mat.FromPixelData(height, width, MatType.CV_32FC1, map);
        using var dst = new Mat();
        Cv2.GaussianBlur(src, dst, new Size(size, size), sigma, sigma, BorderTypes.Reflect);
        var expected = new float[height * width];
        Marshal.Copy(dst.Data, expected, 0, expected.Length);
        for (int i = 0; i < expected.Length; i++) Assert.InRange(Math.Abs(expected[i] - ours[i]), 0, 1e-4);
    }

    [Fact]
    public void KeepsAConstantMapConstant()
    {
        var blurred = GaussianBlur.Apply(Enumerable.Repeat(2.5f, 6 * 7).ToArray(), 6, 7, 4);
        Assert.All(blurred, v => Assert.Equal(2.5f, v, 5));
    }
}
