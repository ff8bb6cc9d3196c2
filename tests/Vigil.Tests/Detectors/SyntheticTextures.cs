using Vigil.Data;
using Vigil.Imaging;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Test images written to a temporary folder: a stationary grey noise texture, and defective copies with a bright
/// disc (mask = the disc). Everything is drawn from a seeded generator.
/// </summary>
public sealed class SyntheticTextures : IDisposable
{
    public const int Size = 96;
    private const int DiscRadius = 7;
    private readonly string _folder = Directory.CreateTempSubdirectory("vigil-detectors-").FullName;
    private readonly Random _random;

    public SyntheticTextures(int seed, int trainCount, int testNormalCount, int testDefectiveCount)
    {
        _random = new Random(seed);
        Train = Enumerable.Range(0, trainCount).Select(i => Write($"train_{i}", null)).ToList();
        Test = Enumerable.Range(0, testNormalCount).Select(i => Write($"good_{i}", null))
            .Concat(Enumerable.Range(0, testDefectiveCount).Select(i =>
                Write($"blob_{i}", (_random.Next(30, Size - 30), _random.Next(30, Size - 30)))))
            .ToList();
    }

    public IReadOnlyList<Sample> Train { get; }
    public IReadOnlyList<Sample> Test { get; }

    private Sample Write(string name, (int Y, int X)? disc)
    {
        var image = new ImageTensor(3, Size, Size);
        var mask = new BinaryMask(Size, Size);
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                float v = 0.35f + 0.3f * (float)_random.NextDouble();
                if (disc is var (cy, cx) && (y - cy) * (y - cy) + (x - cx) * (x - cx) <= DiscRadius * DiscRadius)
                {
                    v = 1f;
                    mask[y, x] = true;
                }
                for (int c = 0; c < 3; c++) image[c, y, x] = v;
            }
        var imagePath = Path.Combine(_folder, name + ".png");
        ImageIO.Write(image, imagePath);
        if (disc is null) return new Sample(imagePath, SampleLabel.Normal, "good", "synthetic", "noise");
        var maskPath = Path.Combine(_folder, name + "_mask.png");
        ImageIO.WriteMask(mask, maskPath);
        return new Sample(imagePath, SampleLabel.Anomalous, "blob", "synthetic", "noise", new MaskFile(maskPath));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
