using Vigil.Deployment;
using Vigil.Imaging;
using Vigil.Inference;

namespace Vigil.UseCases;

/// <summary>One image scored by a deployed model, with the pictures a person looks at.</summary>
/// <param name="Heatmap">The anomaly map coloured (blue = low, red = high) over the calibration's pixel range, or the map's own.</param>
/// <param name="Overlay">The heat map blended over the image, with the pixels the model calls defective outlined when it has a threshold.</param>
public sealed record ScoredImage(Prediction Prediction, CalibratedPrediction? Decision, ImageTensor Heatmap, ImageTensor Overlay);

/// <summary>Scores one image and draws its heat map and overlay: what `vigil predict` writes and `vigil serve` returns.</summary>
public static class ScoreImage
{
    /// <summary>Heat map and overlay are scaled down so their longer side is at most <paramref name="maxMapSide"/> pixels (null: the image's size).</summary>
    public static ScoredImage Run(DeployedModel model, ImageTensor image, int? maxMapSide)
    {
        var (prediction, decision) = model.Predict(image);
        var calibration = model.Calibration;
        var (low, high) = calibration is null ? (prediction.Map.Data.Min(), prediction.Map.Data.Max()) : (calibration.PixelMin, calibration.PixelMax);
        var (map, shown) = (prediction.Map, image);
        if (maxMapSide is int side && Math.Max(image.Height, image.Width) > side)
        {
            double scale = (double)side / Math.Max(image.Height, image.Width);
            int h = Math.Max(1, (int)Math.Round(image.Height * scale)), w = Math.Max(1, (int)Math.Round(image.Width * scale));
            (map, shown) = (map.Resize(h, w), ImageOps.Resize(image, h, w, Interpolation.Area));
        }
        // With a threshold, outline the pixels the model calls defective (the ground truth is unknown here).
        return new ScoredImage(prediction, decision, Heatmap.Colourise(map, low, high), Heatmap.Overlay(shown, map, low, high, calibration?.Segment(map)));
    }
}
