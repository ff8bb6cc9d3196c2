namespace Vigil.Server;

/// <summary>
/// Bounded admission: at most <c>concurrency</c> predictions run and <c>queueLength</c> wait; a request beyond that is
/// refused at once (the caller answers 503), so a burst never piles up memory in the server.
/// </summary>
internal sealed class AdmissionGate(int concurrency, int queueLength)
{
    private readonly SemaphoreSlim _slots = new(concurrency, concurrency);
    private int _admitted; // running + waiting

    public int Running => concurrency - _slots.CurrentCount;
    public int Waiting => Math.Max(0, Volatile.Read(ref _admitted) - Running);

    /// <summary>A ticket to run (dispose it when done), or null when the queue is full.</summary>
    public async Task<IDisposable?> EnterAsync(CancellationToken cancel)
    {
        if (Interlocked.Increment(ref _admitted) > concurrency + queueLength)
        {
            Interlocked.Decrement(ref _admitted);
            return null;
        }
        try { await _slots.WaitAsync(cancel); }
        catch
        {
            Interlocked.Decrement(ref _admitted);
            throw;
        }
        return new Ticket(this);
    }

    private sealed class Ticket(AdmissionGate gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            gate._slots.Release();
            Interlocked.Decrement(ref gate._admitted);
        }
    }
}
