namespace Vigil.Metrics;

/// <summary>
/// Trapezoid area under a curve fed point by point in ascending x, cut at <c>limit</c> with y linearly interpolated
/// there — the MVTec evaluation code's <c>trapezoid(x, y, x_max)</c> (generic_util.py / util.trapz). Starts at (0, 0).
/// </summary>
internal struct TruncatedArea(double limit)
{
    private double _prevX, _prevY, _area;

    public bool Done { get; private set; }

    /// <summary>Area divided by the limit, so a perfect curve scores 1.</summary>
    public readonly double Normalized => _area / limit;

    public void Add(double x, double y)
    {
        if (Done) return;
        if (x <= limit)
        {
            _area += 0.5 * (y + _prevY) * (x - _prevX);
            _prevX = x; _prevY = y;
            return;
        }
        double yAtLimit = _prevY + (y - _prevY) * (limit - _prevX) / (x - _prevX);
        _area += 0.5 * (yAtLimit + _prevY) * (limit - _prevX);
        Done = true;
    }
}
