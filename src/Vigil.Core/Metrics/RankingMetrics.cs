namespace Vigil.Metrics;

/// <summary>The best F1 over all thresholds and the threshold that reaches it (predict anomalous when score &gt;= Threshold).</summary>
public readonly record struct F1Max(double F1, float Threshold);

/// <summary>AUROC, AP and F1-max over a sorted key array (see <see cref="RankedScores"/>); shared by image and pixel level.</summary>
internal static class RankingMetrics
{
    public static double Auroc(ulong[] sorted, long positives, long negatives)
    {
        var v = new AurocVisitor();
        RankedScores.Sweep(sorted, ref v);
        // Integer trapezoid sums are exact in double up to 2^53; divide once at the end.
        return v.TwiceArea / (2.0 * positives * negatives);
    }

    public static double AveragePrecision(ulong[] sorted, long positives)
    {
        var v = new ApVisitor();
        RankedScores.Sweep(sorted, ref v);
        return v.Sum / positives;
    }

    public static F1Max F1Max(ulong[] sorted, long positives)
    {
        var v = new F1Visitor { Positives = positives, Best = -1 };
        RankedScores.Sweep(sorted, ref v);
        return new F1Max(v.Best, v.BestThreshold);
    }

    /// <summary>Trapezoid over the ROC points (FP, TP) at every distinct threshold, starting at (0, 0) — sklearn roc_auc_score.</summary>
    private struct AurocVisitor : ISweepVisitor
    {
        private long _prevTp, _prevFp;
        public double TwiceArea;
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
        public void OnPositive(uint payload) { }
        public bool OnThreshold(float threshold, long tp, long fp)
        {
            if (tp != _prevTp) Sum += (tp - _prevTp) * ((double)tp / (tp + fp));
            _prevTp = tp;
            return true;
        }
    }

    /// <summary>F1 = 2TP / (TP + FP + P); ties keep the highest threshold.</summary>
    private struct F1Visitor : ISweepVisitor
    {
        public long Positives;
        public double Best;
        public float BestThreshold;
        public void OnPositive(uint payload) { }
        public bool OnThreshold(float threshold, long tp, long fp)
        {
            double f1 = 2.0 * tp / (tp + fp + Positives);
            if (f1 > Best) { Best = f1; BestThreshold = threshold; }
            return true;
        }
    }
}
