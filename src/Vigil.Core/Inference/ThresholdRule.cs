using System.Globalization;

namespace Vigil.Inference;

/// <summary>How the decision threshold is chosen on the validation set (never on test images).</summary>
public abstract record ThresholdRule
{
    /// <summary>The threshold with the best F1 on validation normals and anomalies (labelled or synthetic).</summary>
    public sealed record F1Optimal : ThresholdRule
    {
        public override string ToString() => "f1";
    }

    /// <summary>
    /// The lowest threshold at which at most a fraction <paramref name="Fpr"/> of validation normals is flagged:
    /// needs no anomalies, so it works with normal images alone.
    /// </summary>
    public sealed record FixedFpr(double Fpr) : ThresholdRule
    {
        public override string ToString() => "fpr:" + Fpr.ToString(CultureInfo.InvariantCulture);
    }

    public const string Forms = "'f1' (best F1 on validation normals + anomalies) or 'fpr:<rate>' (at most that false-positive rate on validation normals, e.g. fpr:0.01)";

    public static ThresholdRule Parse(string spec)
    {
        var text = spec.Trim().ToLowerInvariant();
        if (text == "f1") return new F1Optimal();
        if (text.StartsWith("fpr:", StringComparison.Ordinal)
            && double.TryParse(text[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out double fpr))
        {
            if (fpr is >= 0 and < 1) return new FixedFpr(fpr);
            throw new VigilInputException($"Threshold false-positive rate {fpr} must be in [0, 1), e.g. fpr:0.01.");
        }
        throw new VigilInputException($"Unknown threshold rule '{spec}'. Use {Forms}.");
    }
}
