using System.Runtime.InteropServices;
using OpenCvSharp;
using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Detectors.Draem;

/// <summary>
/// DRAEM's simulated anomalies (data_loader.py's <c>MVTecDRAEMTrainDataset</c>): a training image, rotated with
/// probability rotate_prob, becomes the target; with probability anomaly_prob a Perlin-noise region of it is replaced
/// by a blend of an augmented anomaly source image and the image itself, and the region is the mask to learn. Every
/// draw comes from the seed each image gets.
/// </summary>
internal sealed class DraemAnomalies(DraemOptions options, DraemAnomalySource source)
{
    /// <summary>A synthesised training sample: the target image, the network input and the anomaly mask, planar at size × size.</summary>
    public readonly record struct Sample(float[] Target, float[] Input, float[] Mask);

    /// <summary>The training sample of <paramref name="image"/> (planar RGB [3, size, size], values in [0, 1]) for <paramref name="seed"/>.</summary>
    public Sample Synthesize(float[] image, ulong seed)
    {
        int size = options.Size, plane = size * size;
        var random = new SeededRandom(seed);
        // transform_image: torch.rand(1) > 0.7 rotates the image (and so the target) by iaa.Affine(rotate=(−90, 90)).
        var target = random.Chance(options.RotateProbability) ? Rotate(image, 3, size, random.Uniform(-options.Rotation, options.Rotation)) : image;
        var mask = new float[plane];
        // augment_image: no_anomaly > 0.5 keeps the image as it is, with an empty mask.
        if (!random.Chance(options.AnomalyProbability)) return new Sample(target, target, mask);

        var anomaly = source.Draw(random, size);
        foreach (int augmenter in Choose(DraemAugmenters.Count, options.Augmenters, random))
            DraemAugmenters.Apply(augmenter, anomaly, size, size, random);

        int scaleY = 1 << (options.MinPerlinScale + (int)random.NextInt64(options.PerlinScale - options.MinPerlinScale));
        int scaleX = 1 << (options.MinPerlinScale + (int)random.NextInt64(options.PerlinScale - options.MinPerlinScale));
        var noise = Rotate(PerlinNoise.Sample(size, size, scaleY, scaleX, random), 1, size, random.Uniform(-options.Rotation, options.Rotation));
        float beta = (float)(random.NextDouble() * options.BetaMax);

        var input = (float[])target.Clone();
        for (int p = 0; p < plane; p++)
        {
            if (!(noise[p] > options.Threshold)) continue;
            mask[p] = 1;
            for (int c = 0; c < 3; c++)
                input[c * plane + p] = (1 - beta) * (anomaly[p * 3 + c] / 255f) + beta * target[c * plane + p];
        }
        return new Sample(target, input, mask);
    }

    /// <summary>np.random.choice(n, k, replace=False): k distinct indices in random order (a partial Fisher–Yates shuffle).</summary>
    internal static int[] Choose(int n, int k, SeededRandom random)
    {
        var all = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = i + (int)random.NextInt64(n - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..k];
    }

    /// <summary>Planar float channels rotated about the centre as iaa.Affine does (bilinear, zeros outside).</summary>
    private static float[] Rotate(float[] planar, int channels, int size, double degrees)
    {
        int plane = size * size;
        var result = new float[planar.Length];
        for (int c = 0; c < channels; c++)
        {
            using var source = Mat.FromPixelData(size, size, MatType.CV_32FC1, planar[(c * plane)..((c + 1) * plane)]);
            using var rotated = DraemAugmenters.Rotated(source, degrees);
            Marshal.Copy(rotated.Data, result, c * plane, plane);
        }
        return result;
    }
}

/// <summary>
/// Where DRAEM's anomaly textures come from: the official code reads the DTD texture set, which is not available here;
/// by default Vigil's synthetic categories (wood, nut, tile) are rendered as normal images, each from its own seed; or
/// the images of a folder (searched recursively), as DTD would be given. Draws 8-bit RGB pixels (interleaved) at size × size.
/// </summary>
internal abstract class DraemAnomalySource
{
    public abstract byte[] Draw(SeededRandom random, int size);

    /// <summary>The source <paramref name="source"/> names: "synthetic" or a folder holding at least one image.</summary>
    public static DraemAnomalySource Open(string source)
    {
        if (source.Equals(DraemOptions.SyntheticSource, StringComparison.OrdinalIgnoreCase)) return new Synthetic();
        ImageFiles.RequireFolder(source, "anomaly source images for DRAEM (source=<folder>)", "Give a folder of texture images (the paper uses DTD), or source=synthetic.");
        List<string> files;
        try { files = Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(ImageFiles.IsImage).Order(StringComparer.Ordinal).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VigilInputException($"DRAEM's anomaly source folder '{source}' cannot be read ({e.Message}); check its permissions, or use source=synthetic.", e);
        }
        if (files.Count == 0)
            throw new VigilInputException($"DRAEM's anomaly source folder '{source}' holds no images ({string.Join(", ", ImageFiles.Extensions)}); give a folder of texture images, or source=synthetic.");
        return new Folder(files);
    }

    private static byte[] ToBytes(ImageTensor image)
    {
        int plane = image.Height * image.Width;
        var bytes = new byte[plane * 3];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++) bytes[p * 3 + c] = (byte)Math.Clamp(Math.Round(image.Data[c * plane + p] * 255f), 0, 255);
        return bytes;
    }

    private sealed class Synthetic : DraemAnomalySource
    {
        public override byte[] Draw(SeededRandom random, int size)
        {
            var categories = SyntheticDataset.Categories;
            string category = categories[(int)random.NextInt64(categories.Count)];
            return ToBytes(SyntheticDataset.Render(category, size, random.NextUInt64()).Image);
        }
    }

    /// <summary>cv2.imread then cv2.resize to size × size (bilinear), as data_loader.py reads a DTD image.</summary>
    private sealed class Folder(IReadOnlyList<string> files) : DraemAnomalySource
    {
        public override byte[] Draw(SeededRandom random, int size)
        {
            string path = files[(int)random.NextInt64(files.Count)];
            ImageTensor image;
            try { image = ImageIO.ReadRgb(path); }
            catch (Exception e) when (e is not VigilInputException)
            {
                throw new VigilInputException($"DRAEM's anomaly source image '{path}' cannot be read ({e.Message}); remove it from the folder.", e);
            }
            return ToBytes(ImageOps.Resize(image, size, size));
        }
    }
}
