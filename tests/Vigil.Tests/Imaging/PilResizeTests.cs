using System.Text.Json;
using Vigil.Imaging;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vigil.Tests.Imaging;

/// <summary>
/// <see cref="PilResize"/> against PIL itself (Fixtures/preprocessing/pil_resize.json, made by make_fixtures.py
/// beside it with Pillow 9.4), against libtorch's independent anti-aliased interpolation, and on a hand-computed case.
/// </summary>
public class PilResizeTests(ITestOutputHelper output)
{
    private static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "preprocessing", "pil_resize.json"))).RootElement;

    /// <summary>The fixture's 8-bit RGB image in grey levels 0–255 (not scaled), as PIL holds it.</summary>
    private static ImageTensor FixtureImage()
    {
        var image = Fixture.GetProperty("image");
        return new ImageTensor(3, image.GetProperty("height").GetInt32(), image.GetProperty("width").GetInt32(),
            image.GetProperty("rgb").EnumerateArray().Select(v => (float)v.GetInt32()).ToArray());
    }

    private static BinaryMask FixtureMask(string property = "values")
    {
        var mask = Fixture.GetProperty("mask");
        return new BinaryMask(mask.GetProperty("height").GetInt32(), mask.GetProperty("width").GetInt32(),
            mask.GetProperty(property).EnumerateArray().Select(v => v.GetInt32() != 0).ToArray());
    }

    [Fact]
    public void FloatResamplingEqualsPilOnFloatImagesForEveryFilterAndSize()
    {
        var image = FixtureImage();
        int cases = 0;
        foreach (var c in Fixture.GetProperty("cases").EnumerateArray())
        {
            var filter = Enum.Parse<ResizeFilter>(c.GetProperty("filter").GetString()!);
            int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
            var expected = c.GetProperty("float").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var actual = PilResize.Resize(image, h, w, filter).Data;
            Assert.Equal(expected.Length, actual.Length);
            // PIL's values were stored with 4 decimals (grey levels 0–255).
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f, $"{filter} {h}x{w} value {i}: PIL {expected[i]}, Vigil {actual[i]}");
            cases++;
        }
        Assert.Equal(8, cases);
    }

    [Fact]
    public void ClippedFloatResamplingDiffersFromEightBitPilByItsRoundingOnly()
    {
        var image = FixtureImage();
        foreach (var c in Fixture.GetProperty("cases").EnumerateArray())
        {
            var filter = Enum.Parse<ResizeFilter>(c.GetProperty("filter").GetString()!);
            int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
            var pil8 = c.GetProperty("uint8").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            var actual = PilResize.Resize(image, h, w, filter, clip: (0, 255)).Data;
            double maxDifference = 0, meanDifference = 0;
            for (int i = 0; i < pil8.Length; i++)
            {
                double d = Math.Abs(pil8[i] - actual[i]);
                maxDifference = Math.Max(maxDifference, d);
                meanDifference += d / pil8.Length;
            }
            output.WriteLine($"{filter} {h}x{w}: |PIL 8-bit - Vigil float| max {maxDifference:F3}, mean {meanDifference:F3} grey levels");
            // PIL rounds after each pass: ±0.5 at the end plus the first pass's ±0.5 carried through the second pass's
            // weights, whose absolute sum is 1 for the triangle but up to about 1.25 with Lanczos' negative lobes.
            double bound = filter == ResizeFilter.AntialiasedBilinear ? 1.0 : 0.5 + 0.5 * 1.25;
            Assert.True(maxDifference <= bound, $"{filter} {h}x{w}: max difference {maxDifference:F3}");
        }
    }

    [Fact]
    public void WithoutClippingLanczosKeepsItsOvershootAtHardEdges()
    {
        var image = FixtureImage();
        var clipped = PilResize.Resize(image, 12, 19, ResizeFilter.AntialiasedLanczos, clip: (0, 255)).Data;
        var raw = PilResize.Resize(image, 12, 19, ResizeFilter.AntialiasedLanczos).Data;
        Assert.True(raw.Max() > 255 || raw.Min() < 0);
        Assert.InRange(clipped.Min(), 0, 255);
        Assert.InRange(clipped.Max(), 0, 255);
    }

    [Fact]
    public void AntialiasedBilinearEqualsLibtorchAntialiasedInterpolation()
    {
        // libtorch's _upsample_bilinear2d_aa is its own implementation of the same filter (align_corners false).
        var random = new Random(5);
        var image = new ImageTensor(2, 37, 61);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = random.NextSingle();
        foreach (var (h, w) in new[] { (11, 17), (20, 61), (37, 29), (50, 70) })
        {
            var ours = PilResize.Resize(image, h, w, ResizeFilter.AntialiasedBilinear).Data;
            using var input = tensor(image.Data, [1, 2, 37, 61]);
            using var reference = nn.functional.interpolate(input, [h, w], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
            var theirs = reference.data<float>().ToArray();
            for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(ours[i] - theirs[i]) < 1e-5f, $"{h}x{w} value {i}: libtorch {theirs[i]}, Vigil {ours[i]}");
        }
    }

    [Fact]
    public void HalvingFourPixelsWeighsThreeNeighboursWithAStretchedTriangle()
    {
        // Scale 2 stretches the triangle to support 2: output 0 (centre 1.0) weighs pixels 0, 1, 2 by 0.75, 0.75, 0.25
        // (normalised by 1.75), output 1 (centre 3.0) pixels 1, 2, 3 by 0.25, 0.75, 0.75. Plain bilinear gives 0.5, 2.5.
        var line = new ImageTensor(1, 1, 4, [0f, 1f, 2f, 3f]);
        var halved = PilResize.Resize(line, 1, 2, ResizeFilter.AntialiasedBilinear).Data;
        Assert.Equal(1.25 / 1.75, halved[0], 6);
        Assert.Equal(4.0 / 1.75, halved[1], 6);
    }

    [Fact]
    public void MasksFollowPilNearestAndPatchCoresFullyDefectiveRule()
    {
        var mask = FixtureMask();
        foreach (var c in Fixture.GetProperty("masks").EnumerateArray())
        {
            int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
            var nearest = c.GetProperty("nearest").EnumerateArray().Select(v => v.GetInt32() != 0).ToArray();
            Assert.Equal(nearest, PilResize.Nearest(mask, h, w).Data);

            // PatchCore: PIL bilinear on the 0/255 mask, ToTensor, astype(int): defective where PIL gave 255.
            var fullyDefective = c.GetProperty("bilinear_uint8").EnumerateArray().Select(v => v.GetInt32() == 255).ToArray();
            var geometry = new Preprocessing(h, w) { Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.FilteredFullyDefective };
            var actual = geometry.ApplyToMask(mask).Data;
            Assert.Equal(fullyDefective, actual);
            Assert.Contains(true, actual);
        }
    }
}
