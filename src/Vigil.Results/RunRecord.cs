using System.Reflection;
using System.Runtime.InteropServices;

namespace Vigil.Results;

/// <summary>
/// One run of a command that produces results: what was run, with which configuration, by which Vigil build, with
/// which weights, on which machine. <see cref="Id"/>, <see cref="Finished"/> and <see cref="Status"/> are filled by
/// the store.
/// </summary>
/// <param name="Configuration">The full resolved configuration (every option after defaults), as a JSON document.</param>
/// <param name="GitCommit">The commit Vigil was built from, or null when the build did not know it.</param>
/// <param name="WeightsSha256">SHA-256 of the backbone's weight file, or null for randomly initialised weights.</param>
public sealed record RunRecord(
    DateTimeOffset Started,
    string CommandLine,
    string Configuration,
    string VigilVersion,
    string? GitCommit,
    string Backbone,
    string? WeightsSha256,
    RunEnvironment Environment)
{
    public long Id { get; init; }
    public DateTimeOffset? Finished { get; init; }
    public string Status { get; init; } = RunStatus.Running;

    /// <summary>A run starting now, with this build's version and commit and this machine's environment.</summary>
    public static RunRecord StartingNow(string commandLine, string configuration, string backbone, string? weightsSha256) =>
        new(DateTimeOffset.UtcNow, commandLine, configuration, VigilBuild.Version, VigilBuild.GitCommit, backbone,
            weightsSha256, RunEnvironment.Current());
}

/// <summary>
/// Status values of a run: <see cref="Interrupted"/> when stopped by Ctrl+C or SIGTERM, <see cref="Failed"/> when an
/// error ended it; a run whose process was killed outright (SIGKILL, power cut) stays <see cref="Running"/>.
/// </summary>
public static class RunStatus
{
    public const string Running = "running";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";
}

/// <summary>The machine a run ran on: what its timings depend on.</summary>
public sealed record RunEnvironment(string MachineName, string OperatingSystem, int Cores, long MemoryBytes, string DotnetVersion)
{
    public static RunEnvironment Current() => new(
        System.Environment.MachineName,
        RuntimeInformation.OSDescription,
        System.Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        RuntimeInformation.FrameworkDescription);
}
