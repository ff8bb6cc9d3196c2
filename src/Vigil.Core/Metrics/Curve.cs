namespace Vigil.Metrics;

/// <summary>
/// A metric's curve as points in sweep order (threshold from the highest score down), e.g. ROC (FPR, TPR),
/// PRO (FPR, PRO) or PR (recall, precision). Made by the same sweep as the metric, so it is the curve the metric
/// integrates; pixel curves are thinned (see <see cref="DefaultStep"/>).
/// </summary>
public sealed record Curve(IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>
    /// Thinning of pixel curves: once a point is this far (|Δx| + |Δy|) from the last kept one, it is kept together
    /// with the point just before it, and the last point is kept. The kept corners of a staircase (few defective
    /// pixels: big TPR steps between runs of small FPR steps) are exact, so the area barely moves; a monotone curve
    /// on the unit square has at most 4 / step points (500).
    /// </summary>
    public const double DefaultStep = 0.008;
}

/// <summary>Collects curve points during a sweep, thinned by a minimum step and optionally cut at an x limit (y interpolated there).</summary>
internal sealed class CurveBuilder(double step, double xLimit = double.PositiveInfinity, bool startAtOrigin = true)
{
    private readonly List<double> _x = startAtOrigin ? [0.0] : [];
    private readonly List<double> _y = startAtOrigin ? [0.0] : [];
    private double _pendingX = double.NaN, _pendingY = double.NaN; // last seen point not kept yet
    private double _lastX = startAtOrigin ? 0 : double.NaN, _lastY = startAtOrigin ? 0 : double.NaN; // last point seen

    public bool Done { get; private set; }

    public void Add(double x, double y)
    {
        if (Done) return;
        if (x > xLimit)
        {
            // The first point past the limit: end at the limit with y interpolated, as TruncatedArea integrates.
            double yAtLimit = _lastY + (y - _lastY) * (xLimit - _lastX) / (x - _lastX);
            Keep(xLimit, yAtLimit);
            Done = true;
            return;
        }
        (_lastX, _lastY) = (x, y);
        if (_x.Count == 0 || Math.Abs(x - _x[^1]) + Math.Abs(y - _y[^1]) >= step)
        {
            if (!double.IsNaN(_pendingX)) Keep(_pendingX, _pendingY);
            Keep(x, y);
        }
        else (_pendingX, _pendingY) = (x, y);
    }

    public Curve Build()
    {
        if (!Done && !double.IsNaN(_pendingX)) Keep(_pendingX, _pendingY);
        return new Curve(_x.ToArray(), _y.ToArray());
    }

    private void Keep(double x, double y)
    {
        _x.Add(x);
        _y.Add(y);
        _pendingX = _pendingY = double.NaN;
    }
}
