using System.Globalization;
using System.Runtime.InteropServices;
using OpenCvSharp;
using Vigil.Imaging;

namespace Vigil.Data;

/// <summary>
/// Defect regions given as polygons in coordinates normalised to [0, 1] (YOLO segmentation labels), filled at the
/// image's size when loaded, so one label serves any image size.
/// </summary>
/// <param name="LabelFile">The file the polygons came from, named in errors.</param>
/// <param name="Polygons">Each polygon as x1, y1, x2, y2, ... with x in image widths and y in image heights.</param>
public sealed record PolygonMask(string LabelFile, IReadOnlyList<double[]> Polygons) : MaskSource
{
    /// <summary>Fixed-point bits handed to FillPoly, so vertices keep 1/16-pixel precision instead of snapping to whole pixels.</summary>
    private const int Shift = 4;

    public override BinaryMask Load(int imageHeight, int imageWidth)
    {
        using var mat = new Mat(imageHeight, imageWidth, MatType.CV_8UC1, Scalar.All(0));
        var polygons = Polygons.Select(p => Enumerable.Range(0, p.Length / 2)
            // Normalised x covers pixel edges 0..W; OpenCV's pixel i has its centre at i, i.e. edge coordinate i + 0.5.
            .Select(k => new Point(ToFixed(p[2 * k] * imageWidth - 0.5), ToFixed(p[2 * k + 1] * imageHeight - 0.5)))
            .ToArray());
        Cv2.FillPoly(mat, polygons, Scalar.All(255), LineTypes.Link8, Shift);
        var bytes = new byte[imageHeight * imageWidth];
        Marshal.Copy(mat.Data, bytes, 0, bytes.Length);
        return new BinaryMask(imageHeight, imageWidth, Array.ConvertAll(bytes, b => b != 0));
    }

    private static int ToFixed(double pixel) => (int)Math.Round(pixel * (1 << Shift), MidpointRounding.AwayFromZero);

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
