using TorchSharp;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>From scores on the feature grid to a pixel anomaly map at the original image's size.</summary>
public static class AnomalyMaps
{
    /// <summary>
    /// Upsamples grid scores [h, w] bilinearly (align_corners=False) to the network input size, smooths them with a
    /// Gaussian of <paramref name="sigma"/> (the reference methods' post-processing at that size; 0: none), then maps the
    /// result back onto the original image: a centre crop is undone by placing the map in the resized frame (the
    /// cropped-away border gets the map's minimum, as it was never seen) and the frame is resized to the image.
    /// Also returns the smoothed map at network resolution, the view the reference code evaluates (its maximum is the
    /// image score of PaDiM and SPADE).
    /// </summary>
    public static (ScoreMap Map, ScoreMap View) ToImage(Tensor gridScores, Preprocessing preprocessing, int imageHeight, int imageWidth, double sigma)
    {
        int h = preprocessing.OutputHeight, w = preprocessing.OutputWidth;
        float[] upsampled;
        using (var scope = NewDisposeScope())
        {
            var grid = gridScores.to_type(ScalarType.Float32).reshape(1, 1, gridScores.shape[^2], gridScores.shape[^1]);
            upsampled = FeatureMaps.Resize(grid, h, w, InterpolationMode.Bilinear).contiguous().data<float>().ToArray();
        }
        var smoothed = sigma > 0 ? GaussianBlur.Apply(upsampled, h, w, sigma) : upsampled;

        var (frameH, frameW) = preprocessing.ResizedSize(imageHeight, imageWidth); // the short-side resize keeps the aspect ratio
        var frame = smoothed;
        if (frameH != h || frameW != w)
        {
            frame = new float[frameH * frameW];
            Array.Fill(frame, smoothed.Min());
            // torchvision's CenterCrop origin, as Preprocessing applies it.
            int top = (int)Math.Round((frameH - h) / 2.0), left = (int)Math.Round((frameW - w) / 2.0);
            for (int y = 0; y < h; y++) Array.Copy(smoothed, y * w, frame, (top + y) * frameW + left, w);
        }
        var atImage = frameH == imageHeight && frameW == imageWidth
            ? frame
            : ImageOps.Resize(new ImageTensor(1, frameH, frameW, frame), imageHeight, imageWidth).Data;
        return (new ScoreMap(imageHeight, imageWidth, atImage), new ScoreMap(h, w, smoothed));
    }
}
