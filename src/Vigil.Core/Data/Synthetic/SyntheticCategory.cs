using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>A procedural product family: how a normal sample looks and which defects it can have.</summary>
internal abstract class SyntheticCategory
{
    public abstract string Name { get; }

    /// <summary>Defect folder names, in generation order.</summary>
    public abstract IReadOnlyList<string> DefectTypes { get; }

    /// <summary>Renders one normal sample; every random choice comes from <paramref name="rng"/>.</summary>
    public abstract Scene Render(int size, SeededRandom rng);

    public static readonly IReadOnlyList<SyntheticCategory> All = [new WoodTexture(), new NutObject(), new TileGrid()];
}

/// <summary>
/// Texture: planks of wood. Growth rings run roughly horizontally, bent by low-frequency noise, with fine fibres
/// along the grain. Ring period, phase, bending and a slight tilt change per image; the statistics do not change
/// across the image (stationary), as in MVTec AD's texture categories.
/// </summary>
internal sealed class WoodTexture : SyntheticCategory
{
    public override string Name => "wood";
    public override IReadOnlyList<string> DefectTypes { get; } = [Defects.Scratch, Defects.Stain, Defects.Crack];

    public override Scene Render(int size, SeededRandom rng)
    {
        float s = size;
        float period = s / 12 * (float)rng.Uniform(0.9, 1.1);
        float tilt = (float)rng.Uniform(-0.06, 0.06), cos = MathF.Cos(tilt), sin = MathF.Sin(tilt);
        float phase = (float)rng.NextDouble();
        float gain = (float)rng.Uniform(0.96, 1.04);
        var bend = new ValueNoise(rng.NextUInt64());
        var fibres = new ValueNoise(rng.NextUInt64());
        var shade = new ValueNoise(rng.NextUInt64());
        var scene = new Scene(size)
        {
            SampleDefectSite = r => ((float)r.Uniform(0.2, 0.8) * s, (float)r.Uniform(0.2, 0.8) * s),
        };
        (float, float, float) colour = (0.80f, 0.60f, 0.40f);
        // Ring bending and shading vary slowly, so they are computed on a coarse grid.
        var bending = ValueNoise.CoarseField(size, 4, (x, y) =>
            0.9f * period * bend.Fractal((x * cos + y * sin) / (0.45f * s), (-x * sin + y * cos) / (0.12f * s), 3));
        var shading = ValueNoise.CoarseField(size, 4, (x, y) => 0.04f * shade.Fractal(x / (0.3f * s), y / (0.3f * s), 2));
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            float along = x * cos + y * sin, across = -x * sin + y * cos;
            float warped = across + bending[y * size + x];
            float ring = warped / period + phase;
            ring -= MathF.Floor(ring);
            // Latewood: a darker band in each period, sharp on one side and fading on the other.
            float late = Shapes.SmoothStep(0.55f, 0.75f, ring) * (1 - Shapes.SmoothStep(0.85f, 1f, ring));
            float tone = 1f - 0.28f * late
                + 0.05f * fibres.Fractal(along / (0.07f * s), across / (0.006f * s), 2)
                + shading[y * size + x];
            scene.SetSurface(y * size + x, gain * tone, colour);
        }
        return scene;
    }
}

/// <summary>
/// Object: a hexagonal nut seen from above on a dark matte plate, with a chamfered rim, a threaded hole and a
/// soft shadow. Position, rotation, size, light direction and brightness jitter slightly per image.
/// </summary>
internal sealed class NutObject : SyntheticCategory
{
    public override string Name => "nut";
    public override IReadOnlyList<string> DefectTypes { get; } = [Defects.Scratch, Defects.Stain, Defects.Missing];

    public override Scene Render(int size, SeededRandom rng)
    {
        float s = size;
        float centreX = s * (0.5f + (float)rng.Uniform(-0.015, 0.015)), centreY = s * (0.5f + (float)rng.Uniform(-0.015, 0.015));
        float rotation = (float)rng.Uniform(-0.14, 0.14), cos = MathF.Cos(rotation), sin = MathF.Sin(rotation);
        float circumradius = 0.36f * s * (float)rng.Uniform(0.985, 1.015), apothem = circumradius * 0.8660254f;
        float hole = 0.40f * circumradius, bevelOuter = hole + 0.14f * circumradius, chamfer = 0.94f * circumradius;
        float light = -2.36f + (float)rng.Uniform(-0.25, 0.25);
        float gain = (float)rng.Uniform(0.93, 1.07);
        float shadowX = -4 * s / 256 * MathF.Cos(light), shadowY = -4 * s / 256 * MathF.Sin(light);
        var plate = new ValueNoise(rng.NextUInt64());
        var grain = new ValueNoise(rng.NextUInt64());
        int plane = size * size;
        var scene = new Scene(size)
        {
            Under = new float[3 * plane],
            Coverage = new float[plane],
            SurfaceDefectsOnObjectOnly = true,
            SampleDefectSite = r =>
            {
                float radius = (float)r.Uniform(bevelOuter + 0.05f * circumradius, 0.8f * circumradius), angle = (float)r.Uniform(0, 2 * Math.PI);
                return (centreX + radius * MathF.Cos(angle), centreY + radius * MathF.Sin(angle));
            },
            SampleMissingRegion = r =>
            {
                // A chunk broken off the rim: a crisp irregular blob centred near the outer edge.
                float angle = (float)r.Uniform(0, 2 * Math.PI), distance = circumradius * (float)r.Uniform(0.85, 1.0);
                return Shapes.Blob(size, r, centreX + distance * MathF.Cos(angle), centreY + distance * MathF.Sin(angle),
                    circumradius * (float)r.Uniform(0.18, 0.3), edgeWidth: 1, irregularity: 0.25);
            },
        };
        (float, float, float) metalColour = (1.0f, 0.985f, 0.95f), plateColour = (0.92f, 0.97f, 1.05f);
        var plateTexture = ValueNoise.CoarseField(size, 4, (x, y) => 0.035f * plate.Fractal(x / (0.19f * s), y / (0.19f * s), 3));
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            float dx = x + 0.5f - centreX, dy = y + 0.5f - centreY;
            float r = MathF.Sqrt(dx * dx + dy * dy), angle = MathF.Atan2(dy, dx), facing = MathF.Cos(angle - light);
            float hexDistance = Shapes.Hexagon(dx * cos + dy * sin, -dx * sin + dy * cos, apothem);
            float sx = dx - shadowX, sy = dy - shadowY;
            float shadowDistance = Shapes.Hexagon(sx * cos + sy * sin, -sx * sin + sy * cos, apothem);
            float shadow = 0.45f * (1 - Shapes.SmoothStep(-2, 10 * s / 256, shadowDistance));
            float vignette = 1 - 0.15f * (r / (0.7f * s)) * (r / (0.7f * s));
            float background = (0.20f + plateTexture[y * size + x]) * (1 - shadow) * vignette;

            float face = 0.60f + 0.07f * facing * (r / circumradius) + 0.015f * MathF.Sin(r * 1.6f * 256 / s);
            float bevel = 0.38f - 0.18f * facing + 0.05f * MathF.Sin(2 * MathF.PI * r / (3.2f * s / 256));
            float metal = face + (0.42f + 0.22f * facing - face) * Math.Clamp(r - chamfer + 0.5f, 0, 1);
            metal += (bevel - metal) * Math.Clamp(bevelOuter - r + 0.5f, 0, 1);
            metal += 0.02f * grain.Fractal(x / (0.025f * s), y / (0.025f * s), 2);

            float cover = Math.Clamp(0.5f - hexDistance, 0, 1) * Math.Clamp(r - hole + 0.5f, 0, 1);
            scene.SetLayered(y * size + x, cover, gain * metal, metalColour, gain * background, plateColour);
        }
        return scene;
    }
}

/// <summary>
/// Regular texture: square ceramic tiles in grout. Each image has its own grid offset and a tiny rotation; each tile
/// its own shade; glaze speckle and grout grain are noise. Missing parts are chipped tile corners showing the grout bed.
/// </summary>
internal sealed class TileGrid : SyntheticCategory
{
    public override string Name => "tile";
    public override IReadOnlyList<string> DefectTypes { get; } = [Defects.Crack, Defects.Stain, Defects.Missing];

    public override Scene Render(int size, SeededRandom rng)
    {
        float s = size, half = s / 2;
        float period = s / 6 * (float)rng.Uniform(0.97, 1.03), grout = 0.1f * period, tileHalf = (period - grout) / 2;
        float offsetX = (float)rng.Uniform(0, period), offsetY = (float)rng.Uniform(0, period);
        float rotation = (float)rng.Uniform(-0.012, 0.012), cos = MathF.Cos(rotation), sin = MathF.Sin(rotation);
        float gain = (float)rng.Uniform(0.95, 1.05);
        ulong shadeSeed = rng.NextUInt64();
        var speckle = new ValueNoise(rng.NextUInt64());
        var groutGrain = new ValueNoise(rng.NextUInt64());
        int plane = size * size;
        // Grid coordinates (u, v) of an image point, and back.
        (float U, float V) ToGrid(float x, float y) => ((x - half) * cos + (y - half) * sin + offsetX, -(x - half) * sin + (y - half) * cos + offsetY);
        (float X, float Y) ToImage(float u, float v) => (half + (u - offsetX) * cos - (v - offsetY) * sin, half + (u - offsetX) * sin + (v - offsetY) * cos);
        var scene = new Scene(size)
        {
            Under = new float[3 * plane],
            Coverage = new float[plane],
            SampleDefectSite = r => ((float)r.Uniform(0.2, 0.8) * s, (float)r.Uniform(0.2, 0.8) * s),
            SampleMissingRegion = r =>
            {
                var (u, v) = ToGrid((float)r.Uniform(0.25, 0.75) * s, (float)r.Uniform(0.25, 0.75) * s);
                float cellU = (MathF.Floor(u / period) + 0.5f) * period, cellV = (MathF.Floor(v / period) + 0.5f) * period;
                // A chip at one corner of that tile, its centre pulled a little into the tile.
                float cornerU = cellU + (r.Chance(0.5) ? 1 : -1) * tileHalf * 0.8f, cornerV = cellV + (r.Chance(0.5) ? 1 : -1) * tileHalf * 0.8f;
                var (x, y) = ToImage(cornerU, cornerV);
                return Shapes.Blob(size, r, x, y, period * (float)r.Uniform(0.2, 0.3), edgeWidth: 1, irregularity: 0.3);
            },
        };
        (float, float, float) glaze = (0.84f, 0.82f, 0.76f), groutColour = (0.50f, 0.48f, 0.45f);
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            var (u, v) = ToGrid(x + 0.5f, y + 0.5f);
            float cellU = MathF.Floor(u / period), cellV = MathF.Floor(v / period);
            float localU = u - (cellU + 0.5f) * period, localV = v - (cellV + 0.5f) * period;
            float distance = Shapes.RoundedBox(localU, localV, tileHalf, 3 * s / 256);
            float shade = 1 + 0.025f * ValueNoise.Lattice(shadeSeed, (int)cellU, (int)cellV);
            float edgeDarkening = 1 - 0.08f * Math.Clamp(1 + distance / (3 * s / 256), 0, 1);
            float tile = shade * edgeDarkening * (1 + 0.03f * speckle.Fractal(x / (0.012f * s), y / (0.012f * s), 2) + 0.03f * (localU + localV) / period);
            float bed = 1 + 0.08f * groutGrain.Fractal(x / (0.01f * s), y / (0.01f * s), 2);

            scene.SetLayered(y * size + x, Math.Clamp(0.5f - distance, 0, 1), gain * tile, glaze, gain * bed, groutColour);
        }
        return scene;
    }
}
