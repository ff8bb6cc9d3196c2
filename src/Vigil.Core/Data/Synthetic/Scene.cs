using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>
/// A rendered normal product before sensor noise, in layers, so that a defect can be composited exactly:
/// <see cref="Top"/> is what the camera sees, <see cref="Under"/> what is beneath the object or tiles (shown
/// where a part is missing), <see cref="Coverage"/> how much of each pixel the object or tiles cover.
/// </summary>
internal sealed class Scene(int size)
{
    public int Size { get; } = size;

    /// <summary>RGB planes (CHW), values about [0, 1].</summary>
    public float[] Top { get; } = new float[3 * size * size];

    /// <summary>RGB planes of the layer beneath; null for textures, which have no parts to lose.</summary>
    public float[]? Under { get; init; }

    /// <summary>Per-pixel object/tile coverage in [0, 1]; null when the whole image is product surface.</summary>
    public float[]? Coverage { get; init; }

    /// <summary>Surface defects (scratch, stain) stay on the object rather than spilling onto the background.</summary>
    public bool SurfaceDefectsOnObjectOnly { get; init; }

    /// <summary>Draws the centre of a surface defect: a point on the product where such a defect is plausible.</summary>
    public required Func<SeededRandom, (float X, float Y)> SampleDefectSite { get; init; }

    /// <summary>Draws the alpha of a missing part (1 = removed); null when the category has no missing parts.</summary>
    public Func<SeededRandom, float[]>? SampleMissingRegion { get; init; }

    public int PlaneSize => Size * Size;

    /// <summary>Sets a pixel of a textured surface (no layer beneath) to a brightness times a colour.</summary>
    public void SetSurface(int pixel, float value, (float R, float G, float B) colour) => SetRgb(Top, pixel, value, colour);

    /// <summary>Sets a pixel of a layered scene: the layer beneath, the coverage, and their anti-aliased blend on top.</summary>
    public void SetLayered(int pixel, float coverage, float value, (float R, float G, float B) colour, float underValue, (float R, float G, float B) underColour)
    {
        Coverage![pixel] = coverage;
        SetRgb(Under!, pixel, underValue, underColour);
        SetRgb(Top, pixel, value, colour);
        int plane = PlaneSize;
        for (int k = pixel; k < 3 * plane; k += plane)
            Top[k] = Under![k] + coverage * (Top[k] - Under[k]); // coverage 0 leaves exactly the layer beneath
    }

    private void SetRgb(float[] planes, int pixel, float value, (float R, float G, float B) colour)
    {
        int plane = PlaneSize;
        planes[pixel] = value * colour.R;
        planes[plane + pixel] = value * colour.G;
        planes[2 * plane + pixel] = value * colour.B;
    }
}
