using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>
/// Anti-aliased coverage (alpha) of the shapes defects are drawn with, from exact distances: a pixel's alpha is
/// the fraction of a one-pixel box filter the shape covers, approximated by clamp(0.5 − signed distance, 0, 1).
/// </summary>
internal static class Shapes
{
    /// <summary>A point of a stroke: position and half-width, in pixels.</summary>
    public readonly record struct StrokePoint(float X, float Y, float HalfWidth);

    /// <summary>Adds (by maximum) a polyline stroke whose half-width varies linearly along each segment.</summary>
    public static void Stroke(float[] alpha, int size, IReadOnlyList<StrokePoint> points)
    {
        for (int s = 0; s + 1 < points.Count; s++)
        {
            var a = points[s];
            var b = points[s + 1];
            float reach = MathF.Max(a.HalfWidth, b.HalfWidth) + 1;
            int x0 = Math.Max(0, (int)MathF.Floor(MathF.Min(a.X, b.X) - reach)), x1 = Math.Min(size - 1, (int)MathF.Ceiling(MathF.Max(a.X, b.X) + reach));
            int y0 = Math.Max(0, (int)MathF.Floor(MathF.Min(a.Y, b.Y) - reach)), y1 = Math.Min(size - 1, (int)MathF.Ceiling(MathF.Max(a.Y, b.Y) + reach));
            float dx = b.X - a.X, dy = b.Y - a.Y, lengthSquared = dx * dx + dy * dy;
            for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                float px = x + 0.5f - a.X, py = y + 0.5f - a.Y;
                float t = lengthSquared > 0 ? Math.Clamp((px * dx + py * dy) / lengthSquared, 0, 1) : 0;
                float ex = px - t * dx, ey = py - t * dy;
                float halfWidth = a.HalfWidth + t * (b.HalfWidth - a.HalfWidth);
                float coverage = Math.Clamp(halfWidth + 0.5f - MathF.Sqrt(ex * ex + ey * ey), 0, 1);
                ref float target = ref alpha[y * size + x];
                if (coverage > target) target = coverage;
            }
        }
    }

    /// <summary>
    /// An irregular blob: a circle whose radius is modulated by a few random harmonics (stains, chipped-off pieces).
    /// Alpha rises from 0 at the outline to 1 over <paramref name="edgeWidth"/> pixels (1 = a crisp anti-aliased edge).
    /// </summary>
    public static float[] Blob(int size, SeededRandom rng, float centreX, float centreY, float radius, float edgeWidth, double irregularity)
    {
        const int firstHarmonic = 2, harmonics = 4;
        var amplitude = new float[harmonics];
        var phase = new float[harmonics];
        float maxAmplitude = 0;
        for (int k = 0; k < harmonics; k++)
        {
            amplitude[k] = (float)(rng.Uniform(0, irregularity) * firstHarmonic / (k + firstHarmonic));
            phase[k] = (float)rng.Uniform(0, 2 * Math.PI);
            maxAmplitude += amplitude[k];
        }
        var alpha = new float[size * size];
        float reach = radius * (1 + maxAmplitude) + edgeWidth + 1;
        int x0 = Math.Max(0, (int)(centreX - reach)), x1 = Math.Min(size - 1, (int)(centreX + reach));
        int y0 = Math.Max(0, (int)(centreY - reach)), y1 = Math.Min(size - 1, (int)(centreY + reach));
        for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
        {
            float dx = x + 0.5f - centreX, dy = y + 0.5f - centreY;
            float angle = MathF.Atan2(dy, dx), outline = 1;
            for (int k = 0; k < harmonics; k++) outline += amplitude[k] * MathF.Cos((k + firstHarmonic) * angle + phase[k]);
            float signedDistance = MathF.Sqrt(dx * dx + dy * dy) - radius * outline;
            alpha[y * size + x] = Math.Clamp((0.5f - signedDistance) / edgeWidth, 0, 1);
        }
        return alpha;
    }

    /// <summary>Signed distance to a regular hexagon with flat top/bottom edges and the given apothem.</summary>
    public static float Hexagon(float x, float y, float apothem)
    {
        const float kx = -0.8660254f, ky = 0.5f, kz = 0.57735027f;
        x = MathF.Abs(x);
        y = MathF.Abs(y);
        float fold = 2 * MathF.Min(kx * x + ky * y, 0);
        x -= fold * kx;
        y -= fold * ky;
        x -= Math.Clamp(x, -kz * apothem, kz * apothem);
        y -= apothem;
        return MathF.Sqrt(x * x + y * y) * MathF.Sign(y);
    }

    /// <summary>Signed distance to an axis-aligned box of the given half-size with rounded corners.</summary>
    public static float RoundedBox(float x, float y, float halfSize, float cornerRadius)
    {
        float qx = MathF.Abs(x) - halfSize + cornerRadius, qy = MathF.Abs(y) - halfSize + cornerRadius;
        float outside = MathF.Sqrt(MathF.Max(qx, 0) * MathF.Max(qx, 0) + MathF.Max(qy, 0) * MathF.Max(qy, 0));
        return outside + MathF.Min(MathF.Max(qx, qy), 0) - cornerRadius;
    }

    public static float SmoothStep(float edge0, float edge1, float x)
    {
        float t = Math.Clamp((x - edge0) / (edge1 - edge0), 0, 1);
        return t * t * (3 - 2 * t);
    }
}
