using System.Collections;
using System.Diagnostics;
using Vigil.Benchmark;
using Vigil.Records;
using Vigil.Results;
using Vigil.Tests.Results;

/// <summary>
/// Lets the test assembly run as a child process that writes to a store and is then killed: started as
/// `dotnet Vigil.Tests.dll` with DOTNET_STARTUP_HOOKS naming this assembly, the runtime calls
/// <see cref="Initialize"/> before the (empty) generated Main, and with <see cref="KilledWriter.StoreVariable"/> set it
/// never returns. Anywhere else (the test host) the variable is unset and this does nothing.
/// </summary>
public static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(KilledWriter.StoreVariable) is { } spec)
            KilledWriter.SaveThenStall(spec, int.Parse(Environment.GetEnvironmentVariable(KilledWriter.CellsVariable)!));
    }
}

namespace Vigil.Tests.Results
{
    /// <summary>
    /// A child process that saves whole cells into a store, then starts saving one more and stops in the middle of
    /// writing its image rows (inside the transaction), where the test kills it.
    /// </summary>
    internal static class KilledWriter
    {
        public const string StoreVariable = "VIGIL_TEST_KILLED_WRITER_STORE";
        public const string CellsVariable = "VIGIL_TEST_KILLED_WRITER_CELLS";
        public const int ImagesPerCell = 500;
        private const int ImagesOfTheStalledCell = 20_000; // megabytes of rows: SQLite spills them into its WAL before the commit

        public static void SaveThenStall(string spec, int cells)
        {
            using var store = ResultsStore.Open(spec, Path.GetTempPath());
            long run = store.BeginRun(ResultSamples.Run());
            for (int seed = 0; seed < cells; seed++)
                store.SaveCell(run, ResultSamples.Cell(Spec(seed), ImagesPerCell));
            var last = ResultSamples.Cell(Spec(cells), ImagesOfTheStalledCell);
            store.SaveCell(run, last with { Images = new StallingList(last.Images) });
            throw new InvalidOperationException("The stalled save returned; the writer should have been killed inside it.");
        }

        private static CellSpec Spec(int seed) => ResultSamples.Spec with { Seed = seed };

        /// <summary>Starts the writer, waits until it stalls inside the transaction of its last save, and kills it (SIGKILL).</summary>
        public static void RunAndKill(string spec, int cells)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            var assembly = typeof(KilledWriter).Assembly.Location;
            start.ArgumentList.Add(assembly);
            start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
            start.Environment[StoreVariable] = spec;
            start.Environment[CellsVariable] = cells.ToString();
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stalled = Task.Run(() =>
            {
                while (process.StandardOutput.ReadLine() is { } line)
                    if (line == StallingList.Signal) return true;
                return false;
            });
            bool inside = stalled.Wait(TimeSpan.FromSeconds(60)) && stalled.Result;
            process.Kill(); // SIGKILL: no finally blocks, no disposal, no rollback by the writer itself
            process.WaitForExit();
            if (!inside) throw new InvalidOperationException($"The writer did not reach its stalled save; its stderr:\n{stderr.Result}");
        }

        /// <summary>
        /// Image outcomes that the store reads twice (once into the cell's JSON, once into image rows): the second
        /// pass stops for good halfway, after telling the test on stdout.
        /// </summary>
        private sealed class StallingList(IReadOnlyList<ImageOutcome> images) : IReadOnlyList<ImageOutcome>
        {
            public const string Signal = "stalled inside the save";
            private int passes;

            public ImageOutcome this[int index] => images[index];
            public int Count => images.Count;

            public IEnumerator<ImageOutcome> GetEnumerator()
            {
                bool stall = ++passes == 2;
                for (int i = 0; i < images.Count; i++)
                {
                    if (stall && i == images.Count / 2)
                    {
                        Console.WriteLine(Signal);
                        Console.Out.Flush();
                        Thread.Sleep(Timeout.Infinite);
                    }
                    yield return images[i];
                }
            }

            IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        }
    }
}
