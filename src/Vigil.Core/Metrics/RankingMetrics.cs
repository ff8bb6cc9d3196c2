namespace Vigil.Metrics;

/// <summary>The best F1 over all thresholds and the threshold that reaches it (predict anomalous when score &gt;= Threshold).</summary>
public readonly record struct F1Max(double F1, float Threshold);

/// <summary>AUROC, AP and F1-max over keys sorted by score (see <see cref="RankedScores"/>); shared by image and pixel level.</summary>
internal static class RankingMetrics
{
    public static double Auroc(ISortedKeys sorted, long positives, long negatives)
    {
        var v = new AurocVisitor();
        sorted.Sweep(ref v);
        // Integer trapezoid sums are exact in double up to 2^53; divide once at the end.
        return v.TwiceArea / (2.0 * positives * negatives);
    }

    public static double AveragePrecision(ISortedKeys sorted, long positives)
    {
        var v = new ApVisitor();
        sorted.Sweep(ref v);
        return v.Sum / positives;
    }

    public static F1Max F1Max(ISortedKeys sorted, long positives)
    {
        var v = new F1Visitor { Positives = positives, BestDenominator = 1 };
        sorted.Sweep(ref v);
        return new F1Max(2.0 * v.BestTp / v.BestDenominator, v.BestThreshold);
    }

    /// <summary>The ROC points (FPR, TPR) that <see cref="Auroc"/> integrates, from (0, 0), thinned by <paramref name="step"/> (0 keeps every point).</summary>
    public static Curve RocCurve(ISortedKeys sorted, long positives, long negatives, double step)
    {
        var v = new RocCurveVisitor(new CurveBuilder(step), positives, negatives);
        sorted.Sweep(ref v);
        return v.Curve.Build();
    }

    /// <summary>
    /// The (recall, precision) point of every distinct threshold, in the order <see cref="AveragePrecision"/> sums them,
    /// up to the first point of full recall (as sklearn precision_recall_curve; later points add nothing to AP).
    /// </summary>
    public static Curve PrecisionRecallCurve(ISortedKeys sorted, long positives)
    {
        var v = new PrCurveVisitor(new CurveBuilder(0, startAtOrigin: false), positives);
        sorted.Sweep(ref v);
        return v.Curve.Build();
    }

    private readonly struct RocCurveVisitor(CurveBuilder curve, long positives, long negatives) : ISweepVisitor
    {
        public CurveBuilder Curve => curve;
        public bool UsesPayload => false;
        public void OnPositive(uint payload) { }
        public bool OnThreshold(float threshold, long tp, long fp)
        {
            curve.Add((double)fp / negatives, (double)tp / positives);
            return true;
        }
    }

    private readonly struct PrCurveVisitor(CurveBuilder curve, long positives) : ISweepVisitor
    {
        public CurveBuilder Curve => curve;
        public bool UsesPayload => false;
        public void OnPositive(uint payload) { }
        public bool OnThreshold(float threshold, long tp, long fp)
        {
            curve.Add((double)tp / positives, (double)tp / (tp + fp));
            return tp < positives;
        }
    }

    /// <summary>Trapezoid over the ROC points (FP, TP) at every distinct threshold, starting at (0, 0) — sklearn roc_auc_score.</summary>
    private struct AurocVisitor : ISweepVisitor
    {
        private long _prevTp, _prevFp;
        public double TwiceArea;
        public readonly bool UsesPayload => false;
        public void OnPositive(uint payload) { }
        public bool OnThreshold(float threshold, long tp, long fp)
        {
            TwiceArea += (double)(fp - _prevFp) * (tp + _prevTp);
            _prevTp = tp; _prevFp = fp;
            return true;
        }
    }

    /// <summary>Step-wise AP = Σ (R_k − R_{k−1}) · P_k over distinct thresholds — sklearn average_precision_score.</summary>
    private struct ApVisitor : ISweepVisitor
    {
        private long _prevTp;
        public double Sum; // Σ ΔTP · precision; divided by P at the end
        public readonly bool UsesPayload => false;
        public void OnPositive(uint payload) { }
        public bool OnThreshold(float threshold, long tp, long fp)
        {
            if (tp != _prevTp) Sum += (tp - _prevTp) * ((double)tp / (tp + fp));
            _prevTp = tp;
            return true;
        }
    }

    /// <summary>
    /// F1 = 2TP / (TP + FP + P); ties keep the highest threshold. F1 can only rise where TP rises, so only those
    /// thresholds are compared, by cross-multiplying (exact in long) instead of dividing.
    /// </summary>
    private struct F1Visitor : ISweepVisitor
    {
        public long Positives, BestTp, BestDenominator;
        public float BestThreshold;
        private long _prevTp;
        public readonly bool UsesPayload => false;
        public void OnPositive(uint payload) { }
        public bool OnThreshold(float threshold, long tp, long fp)
        {
            if (tp == _prevTp) return true;
            _prevTp = tp;
            long denominator = tp + fp + Positives;
            if (tp * BestDenominator > BestTp * denominator)
            {
                BestTp = tp; BestDenominator = denominator; BestThreshold = threshold;
            }
            return true;
        }
    }
}
