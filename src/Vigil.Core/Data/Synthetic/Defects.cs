using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>
/// Draws one defect onto a <see cref="Scene"/> as an alpha layer composited towards a target colour:
/// top ← top + alpha·(target − top). Only pixels with alpha ≥ <see cref="MinimumAlpha"/> (and, for defects that stay on
/// the object, enough object coverage) are touched, and exactly those form the mask: the mask is the defect's footprint
/// by construction, not a thresholded difference image.
/// </summary>
internal static class Defects
{
    public const string Scratch = "scratch";
    public const string Stain = "stain";
    public const string Crack = "crack";
    public const string Missing = "missing";

    /// <summary>
    /// Anti-aliasing fringes fainter than this are not drawn: their change could vanish in 8-bit rounding, leaving
    /// mask pixels that the image does not show as changed.
    /// </summary>
    private const float MinimumAlpha = 0.15f;

    /// <summary>Lines stay at least one pixel wide in small images, so they still fully cover the pixels they cross.</summary>
    private const float MinimumHalfWidth = 0.5f;

    /// <summary>Object coverage below which a pixel is treated as background (for on-object defects).</summary>
    private const float MinimumCoverage = 0.1f;

    public static BinaryMask Paint(Scene scene, string defect, SeededRandom rng)
    {
        float scale = scene.Size / 256f; // defect sizes are designed at 256 px and scale with the image
        return defect switch
        {
            Scratch => PaintScratch(scene, rng, scale),
            Stain => PaintStain(scene, rng, scale),
            Crack => PaintCrack(scene, rng, scale),
            Missing => PaintMissing(scene, rng),
            _ => throw new ArgumentOutOfRangeException(nameof(defect), defect, "Unknown synthetic defect type."),
        };
    }

    /// <summary>Oil, rust, ink and bleach: stains change the colour more than the brightness.</summary>
    private static readonly float[][] StainColours = [[0.22f, 0.22f, 0.25f], [0.60f, 0.33f, 0.18f], [0.25f, 0.30f, 0.50f], [0.95f, 0.93f, 0.88f]];

    /// <summary>A thin curved line (cubic Bézier), brighter or darker than the surface, tapered at both ends.</summary>
    private static BinaryMask PaintScratch(Scene scene, SeededRandom rng, float scale)
    {
        var (cx, cy) = scene.SampleDefectSite(rng);
        float length = (float)rng.Uniform(40, 85) * scale;
        float direction = (float)rng.Uniform(0, Math.PI);
        float halfWidth = MathF.Max(MinimumHalfWidth, (float)rng.Uniform(0.6, 1.3) * scale);
        float bend1 = (float)rng.Uniform(-0.25, 0.25) * length, bend2 = (float)rng.Uniform(-0.25, 0.25) * length;
        float ux = MathF.Cos(direction), uy = MathF.Sin(direction);
        (float X, float Y) P(float along, float across) => (cx + ux * along - uy * across, cy + uy * along + ux * across);
        var p0 = P(-length / 2, 0);
        var p1 = P(-length / 6, bend1);
        var p2 = P(length / 6, bend2);
        var p3 = P(length / 2, 0);
        const int segments = 40;
        var points = new List<Shapes.StrokePoint>(segments + 1);
        for (int i = 0; i <= segments; i++)
        {
            float t = i / (float)segments, s = 1 - t;
            float x = s * s * s * p0.X + 3 * s * s * t * p1.X + 3 * s * t * t * p2.X + t * t * t * p3.X;
            float y = s * s * s * p0.Y + 3 * s * s * t * p1.Y + 3 * s * t * t * p2.Y + t * t * t * p3.Y;
            points.Add(new(x, y, halfWidth * (0.35f + 0.65f * MathF.Sqrt(MathF.Sin(MathF.PI * t)))));
        }
        var alpha = new float[scene.PlaneSize];
        Shapes.Stroke(alpha, scene.Size, points);
        // Scratches mostly catch the light (bright); some expose darker material.
        float delta = rng.Chance(0.65) ? (float)rng.Uniform(0.16, 0.28) : -(float)rng.Uniform(0.14, 0.24);
        return Composite(scene, alpha, (top, _, _) => Math.Clamp(top + delta, 0, 1), onObjectOnly: scene.SurfaceDefectsOnObjectOnly);
    }

    /// <summary>An irregular soft-edged, mottled patch of another colour (oil, rust, ink, bleach) blended over the surface.</summary>
    private static BinaryMask PaintStain(Scene scene, SeededRandom rng, float scale)
    {
        var (cx, cy) = scene.SampleDefectSite(rng);
        float radius = (float)rng.Uniform(9, 18) * scale;
        float edge = (float)rng.Uniform(1.5, 4) * scale;
        var alpha = Shapes.Blob(scene.Size, rng, cx, cy, radius, MathF.Max(1, edge), irregularity: 0.3);
        float strength = (float)rng.Uniform(0.4, 0.7);
        var mottle = new ValueNoise(rng.NextUInt64());
        float mottleScale = 0.18f / scale;
        for (int i = 0; i < alpha.Length; i++)
            if (alpha[i] > 0)
                alpha[i] *= strength * (0.75f + 0.25f * mottle.Sample(i % scene.Size * mottleScale, i / scene.Size * mottleScale));
        float[] colour = StainColours[(int)(rng.NextDouble() * StainColours.Length)];
        Target target = (_, c, _) => colour[c];
        return Composite(scene, alpha, target, onObjectOnly: scene.SurfaceDefectsOnObjectOnly);
    }

    /// <summary>A dark jagged line (mean-reverting random walk), tapered, often with one branch.</summary>
    private static BinaryMask PaintCrack(Scene scene, SeededRandom rng, float scale)
    {
        var (cx, cy) = scene.SampleDefectSite(rng);
        float length = (float)rng.Uniform(35, 75) * scale;
        float direction = (float)rng.Uniform(0, 2 * Math.PI);
        float halfWidth = MathF.Max(MinimumHalfWidth, (float)rng.Uniform(0.7, 1.3) * scale);
        var alpha = new float[scene.PlaneSize];
        var trunk = Walk(rng, cx - MathF.Cos(direction) * length / 2, cy - MathF.Sin(direction) * length / 2, direction, length, scale,
            t => halfWidth * (0.3f + 0.7f * MathF.Sin(MathF.PI * t)));
        Shapes.Stroke(alpha, scene.Size, trunk);
        if (rng.Chance(0.6))
        {
            var fork = trunk[(int)(trunk.Count * rng.Uniform(0.3, 0.7))];
            float forkDirection = direction + (rng.Chance(0.5) ? 1 : -1) * (float)rng.Uniform(0.4, 0.9);
            float forkWidth = fork.HalfWidth * 0.7f;
            Shapes.Stroke(alpha, scene.Size, Walk(rng, fork.X, fork.Y, forkDirection, length * (float)rng.Uniform(0.3, 0.5), scale,
                t => forkWidth * (1 - 0.7f * t)));
        }
        float darken = (float)rng.Uniform(0.35, 0.5);
        return Composite(scene, alpha, (top, _, _) => top * darken, onObjectOnly: scene.SurfaceDefectsOnObjectOnly);
    }

    private static List<Shapes.StrokePoint> Walk(SeededRandom rng, float x, float y, float direction, float length, float scale, Func<float, float> halfWidthAt)
    {
        float step = 2.5f * scale, heading = direction;
        int steps = Math.Max(2, (int)(length / step));
        var points = new List<Shapes.StrokePoint>(steps + 1);
        for (int i = 0; i <= steps; i++)
        {
            float t = i / (float)steps;
            points.Add(new(x, y, halfWidthAt(t)));
            // Mean reversion keeps the crack heading roughly one way while the noise makes it jagged.
            heading += 0.25f * (direction - heading) + (float)(0.35 * rng.Gaussian());
            x += step * MathF.Cos(heading);
            y += step * MathF.Sin(heading);
        }
        return points;
    }

    /// <summary>A piece of the object or tile broken off: the region shows the layer beneath.</summary>
    private static BinaryMask PaintMissing(Scene scene, SeededRandom rng)
    {
        var sample = scene.SampleMissingRegion ?? throw new InvalidOperationException("This category has no missing-part defect.");
        var under = scene.Under!;
        int plane = scene.PlaneSize;
        return Composite(scene, sample(rng), (_, c, pixel) => under[c * plane + pixel], onObjectOnly: true);
    }

    /// <summary>The colour a defect pulls a pixel towards, from its current value, channel and pixel index.</summary>
    private delegate float Target(float top, int channel, int pixel);

    private static BinaryMask Composite(Scene scene, float[] alpha, Target target, bool onObjectOnly)
    {
        int plane = scene.PlaneSize;
        var mask = new BinaryMask(scene.Size, scene.Size);
        for (int i = 0; i < plane; i++)
        {
            float a = alpha[i];
            if (a < MinimumAlpha) continue;
            if (onObjectOnly && scene.Coverage is { } coverage && coverage[i] < MinimumCoverage) continue;
            mask.Data[i] = true;
            for (int c = 0; c < 3; c++)
            {
                ref float top = ref scene.Top[c * plane + i];
                top += a * (target(top, c, i) - top);
            }
        }
        return mask;
    }
}
