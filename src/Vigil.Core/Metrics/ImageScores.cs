namespace Vigil.Metrics;

/// <summary>
/// Threshold metrics on one score per sample (image level, or any flat list): AUROC, average precision and F1-max.
/// Definitions (docs/metrics.md): a threshold sits at every distinct score, a sample is predicted anomalous when
/// score &gt;= threshold; AUROC is the trapezoid over the ROC points (sklearn <c>roc_auc_score</c>), AP the step-wise sum
/// Σ (R_k − R_{k−1}) P_k (sklearn <c>average_precision_score</c>, not the trapezoid AUPR).
/// Throws <see cref="VigilInputException"/> when a metric is undefined (one class only, NaN/∞ scores) and
/// <see cref="ArgumentException"/> on empty or mismatched inputs.
/// </summary>
public static class ImageScores
{
    public static double Auroc(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        var (sorted, p, n) = Rank(scores, labels, "AUROC", needNegatives: true);
        return RankingMetrics.Auroc(sorted, p, n);
    }

    public static double AveragePrecision(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        var (sorted, p, _) = Rank(scores, labels, "average precision", needNegatives: false);
        return RankingMetrics.AveragePrecision(sorted, p);
    }

    public static F1Max F1Max(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        var (sorted, p, _) = Rank(scores, labels, "F1-max", needNegatives: false);
        return RankingMetrics.F1Max(sorted, p);
    }

    /// <summary>The ROC curve (FPR, TPR) at every distinct score, from (0, 0): the points <see cref="Auroc"/> integrates.</summary>
    public static Curve RocCurve(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        var (sorted, p, n) = Rank(scores, labels, "the ROC curve", needNegatives: true);
        return RankingMetrics.RocCurve(sorted, p, n, step: 0);
    }

    /// <summary>
    /// The (recall, precision) point of every distinct score, recall ascending, up to the first point of full recall
    /// (as sklearn precision_recall_curve): <see cref="AveragePrecision"/> is Σ (R_k − R_{k−1}) · P_k over these points with R_0 = 0.
    /// </summary>
    public static Curve PrecisionRecallCurve(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        var (sorted, p, _) = Rank(scores, labels, "the precision-recall curve", needNegatives: false);
        return RankingMetrics.PrecisionRecallCurve(sorted, p);
    }

    private static (ISortedKeys Sorted, long Positives, long Negatives) Rank(
        IReadOnlyList<float> scores, IReadOnlyList<bool> labels, string metric, bool needNegatives)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Count != labels.Count)
            throw new ArgumentException($"{scores.Count} scores but {labels.Count} labels; give one label per score.", nameof(labels));
        if (scores.Count == 0)
            throw new ArgumentException($"No scores given; {metric} needs at least one normal and one anomalous sample.", nameof(scores));
        var keys = new ulong[scores.Count];
        long positives = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            float s = scores[i];
            if (!float.IsFinite(s))
                throw new VigilInputException($"Score #{i} is {s}; {metric} needs finite scores. Check the detector output for that sample.");
            if (labels[i]) positives++;
            keys[i] = RankedScores.Pack(s, labels[i] ? 1u : 0u);
        }
        long negatives = keys.Length - positives;
        if (positives == 0)
            throw new VigilInputException($"All {keys.Length} samples are normal; {metric} is undefined without anomalous samples.");
        if (needNegatives && negatives == 0)
            throw new VigilInputException($"All {keys.Length} samples are anomalous; {metric} is undefined without normal samples.");
        return (new SortedArray(RankedScores.SortByScore(keys)), positives, negatives);
    }
}
