namespace Vigil.UseCases;

/// <summary>How a front end follows a use case's long work: a progress bar on a terminal, periodic lines in a log, nothing in a library call.</summary>
public interface IWorkDisplay
{
    /// <summary>Runs <paramref name="work"/> under <paramref name="title"/>, showing what it reports.</summary>
    T Run<T>(string title, Func<IProgress<WorkProgress>, T> work);

    /// <summary>A line for the user: a kept cell, a note on what a setting did, a warning.</summary>
    void Note(string text);
}

/// <summary>Shows nothing: for library callers and tests that only want the result.</summary>
public sealed class SilentDisplay : IWorkDisplay
{
    public static SilentDisplay Instance { get; } = new();

    public T Run<T>(string title, Func<IProgress<WorkProgress>, T> work) => work(new NoProgress());
    public void Note(string text) { }

    private sealed class NoProgress : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) { }
    }
}
