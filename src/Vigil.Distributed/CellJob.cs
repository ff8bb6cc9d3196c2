using Hangfire;
using Vigil.Results;

namespace Vigil.Distributed;

/// <summary>
/// The Hangfire job of one cell. Bad input (a <see cref="VigilInputException"/>: unknown model or category, a corrupt
/// image, a worker whose Vigil or data differ from the enqueuer's) fails the job at once, its message kept in the
/// job's failed state; anything else (a lost database, a full disk) is retried a few times, then fails.
/// </summary>
public sealed class CellJob(CellWorker worker)
{
    /// <param name="cell">The cell's key, shown by the dashboard; the order is what runs.</param>
    [JobDisplayName("{0}")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [30, 120, 600], ExceptOn = [typeof(VigilInputException)], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public void Run(string cell, string order, CancellationToken cancel) => worker.Run(CellOrder.FromJson(order), cancel);
}

/// <summary>The results store could not be reached: not the cell's fault, so its job is retried.</summary>
public sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);
