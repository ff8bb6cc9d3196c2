using Vigil.Benchmark;
using Vigil.Records;

namespace Vigil.Tests.Benchmark;

/// <summary>The latency percentiles against numpy.percentile's default (linear) method, worked out by hand.</summary>
public class PercentileTests
{
    [Theory]
    // One value: every percentile is that value.
    [InlineData(new[] { 7.0 }, 0.0, 7.0)]
    [InlineData(new[] { 7.0 }, 0.5, 7.0)]
    [InlineData(new[] { 7.0 }, 0.95, 7.0)]
    [InlineData(new[] { 7.0 }, 1.0, 7.0)]
    // [1,2,3,4]: position q·3. Median at 1.5 → 2 + 0.5·1; p95 at 2.85 → 3 + 0.85·1; ends are min and max.
    [InlineData(new[] { 1.0, 2, 3, 4 }, 0.5, 2.5)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 0.95, 3.85)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 0.0, 1.0)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 1.0, 4.0)]
    // [10,20,40,80,160]: position q·4. Median exactly the middle value; p95 at 3.8 → 80 + 0.8·80; p30 at 1.2 → 20 + 0.2·20.
    [InlineData(new[] { 10.0, 20, 40, 80, 160 }, 0.5, 40.0)]
    [InlineData(new[] { 10.0, 20, 40, 80, 160 }, 0.95, 144.0)]
    [InlineData(new[] { 10.0, 20, 40, 80, 160 }, 0.3, 24.0)]
    // Two values: p95 at 0.95 → 0 + 0.95·1; repeated values interpolate to themselves.
    [InlineData(new[] { 0.0, 1 }, 0.95, 0.95)]
    [InlineData(new[] { 5.0, 5, 5, 9 }, 0.5, 5.0)]
    public void MatchesNumpyLinearPercentile(double[] sorted, double q, double expected) =>
        Assert.Equal(expected, Timing.Percentile(sorted, q), 12);
}
