using System.Globalization;
using Vigil.Imaging;

namespace Vigil.Data;

/// <summary>
/// Defect regions given as polygons in coordinates normalised to [0, 1] (YOLO segmentation labels), rasterised at
/// the image's size when loaded, so one label serves any image size.
/// </summary>
/// <param name="LabelFile">The file the polygons came from, named in errors.</param>
/// <param name="Polygons">Each polygon as x1, y1, x2, y2, ... with x in image widths and y in image heights.</param>
public sealed record PolygonMask(string LabelFile, IReadOnlyList<double[]> Polygons) : MaskSource
{
    /// <summary>
    /// A pixel is defective when its centre lies inside a polygon (even-odd rule; a centre exactly on a left/top edge
    /// is inside, on a right/bottom edge outside), so adjacent polygons never share a pixel and a polygon's pixel area
    /// matches its geometric area. OpenCV's FillPoly is not used because it also paints every pixel its outline
    /// touches, which grows each region by up to a pixel on every side.
    /// </summary>
    public override BinaryMask Load(int imageHeight, int imageWidth)
    {
        var mask = new BinaryMask(imageHeight, imageWidth);
        var crossings = new List<double>();
        foreach (var polygon in Polygons)
        {
            int n = polygon.Length / 2;
            for (int y = 0; y < imageHeight; y++)
            {
                double centreY = y + 0.5;
                crossings.Clear();
                for (int k = 0; k < n; k++)
                {
                    int next = (k + 1) % n;
                    double x0 = polygon[2 * k] * imageWidth, y0 = polygon[2 * k + 1] * imageHeight;
                    double x1 = polygon[2 * next] * imageWidth, y1 = polygon[2 * next + 1] * imageHeight;
                    if ((y0 <= centreY) != (y1 <= centreY)) // half-open in y: a vertex on the scan line counts once
                        crossings.Add(x0 + (centreY - y0) * (x1 - x0) / (y1 - y0));
                }
                crossings.Sort();
                for (int i = 0; i + 1 < crossings.Count; i += 2)
                {
                    // Pixels x with crossings[i] <= x + 0.5 < crossings[i + 1].
                    int from = Math.Max(0, (int)Math.Ceiling(crossings[i] - 0.5));
                    int to = Math.Min(imageWidth, (int)Math.Ceiling(crossings[i + 1] - 0.5));
                    for (int x = from; x < to; x++) mask[y, x] = true;
                }
            }
        }
        return mask;
    }

    /// <summary>
    /// Reads a YOLO segmentation label: one polygon a line, "class x1 y1 x2 y2 ..." normalised. An empty file
    /// (no line) means no defect and gives null.
    /// </summary>
    public static PolygonMask? ReadYolo(string labelFile)
    {
        if (!File.Exists(labelFile))
            throw new VigilInputException($"Label file '{labelFile}' does not exist: every image needs a label file (empty for a normal image). Create it.");
        var polygons = new List<double[]>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(labelFile))
        {
            lineNumber++;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            string Where() => $"Label file '{labelFile}' line {lineNumber}";
            if (fields.Length < 7 || fields.Length % 2 == 0)
                throw new VigilInputException($"{Where()} has {fields.Length} fields; a YOLO segmentation line is 'class x1 y1 x2 y2 x3 y3 ...' (a class id and at least 3 x,y points). Fix the line.");
            var coords = new double[fields.Length - 1];
            for (int i = 1; i < fields.Length; i++)
            {
                if (!double.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                    throw new VigilInputException($"{Where()}: '{fields[i]}' is not a number. Coordinates are decimals like 0.25.");
                if (v < -0.01 || v > 1.01)
                    throw new VigilInputException($"{Where()}: coordinate {fields[i]} is outside [0, 1]; YOLO coordinates are normalised by the image width/height. Re-export the labels normalised.");
                coords[i - 1] = v;
            }
            polygons.Add(coords);
        }
        return polygons.Count == 0 ? null : new PolygonMask(labelFile, polygons);
    }
}
