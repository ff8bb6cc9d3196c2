namespace Vigil;

/// <summary>
/// Progress of long work, as every use case reports it to its front end: the phase (e.g. "features", "coreset",
/// "test"), (done, total) units in it, and an optional detail (e.g. a training loss).
/// </summary>
public readonly record struct WorkProgress(string Phase, int Done, int Total, string? Detail = null)
{
    /// <summary>Reports (done, total) of one phase into <paramref name="sink"/>; null when there is no sink.</summary>
    public static IProgress<(int Done, int Total)>? ForPhase(IProgress<WorkProgress>? sink, string phase) =>
        sink is null ? null : new PhaseSink(sink, phase);

    /// <summary>Reports into <paramref name="sink"/> after <paramref name="map"/> (e.g. naming the task in the phase), on the calling thread.</summary>
    public static IProgress<WorkProgress>? Map(IProgress<WorkProgress>? sink, Func<WorkProgress, WorkProgress> map) =>
        sink is null ? null : new MappedSink(sink, map);

    private sealed class MappedSink(IProgress<WorkProgress> sink, Func<WorkProgress, WorkProgress> map) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => sink.Report(map(value));
    }

    private sealed class PhaseSink(IProgress<WorkProgress> sink, string phase) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => sink.Report(new WorkProgress(phase, value.Done, value.Total));
    }
}
