using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Results;
using Vigil.Tests.Benchmark;
using Vigil.Tests.Cli;
using Vigil.Weights;

namespace Vigil.Tests.Reporting;

/// <summary>
/// A small real benchmark run, made once for the report tests: PatchCore (real ONNX MobileNetV2) on a tiny synthetic
/// split, run with an artifacts folder and saved in the results store as bench does, then `vigil report --out`
/// run on it as a user would.
/// </summary>
public sealed class ReportRun : IDisposable
{
    public ReportRun()
    {
        SharedData.RequireDirectory("weights");
        Split = Data.Load();
        Output = Data.Scratch("bench");
        using (var store = ResultsStore.Open(null, Output))
        {
            long run = store.BeginRun(RunRecord.StartingNow("report tests", "{}", "mobilenetv2_int8_onnx", null));
            // One PatchCore cell: the fastest model to fit and predict; tables of several models are tested on hand-made cells.
            var spec = TestSpecs.Cell(dataset: Split.Dataset, backbone: "mobilenetv2_int8_onnx", weights: "pretrained");
            var outcome = CellRunner.Run(spec, DetectorRegistry.Parse("patchcore"), new BackboneChoice("mobilenetv2_int8_onnx", WeightSource.Pretrained), Split);
            store.SaveCell(run, outcome.Result, outcome.ArtifactFiles);
            Outcomes = [outcome];
            store.FinishRun(run, RunStatus.Finished);
        }
        Report = VigilProcess.Run(Output, "report", "--out", Output);
        ReportPath = Path.Combine(Output, "report", "report.html");
    }

    public TinySynthetic Data { get; } = new(trainCount: 8, testGoodCount: 4, perDefectCount: 2);
    public DatasetSplit Split { get; }
    public IReadOnlyList<CellOutcome> Outcomes { get; }
    public IReadOnlyList<CellResult> Cells => Outcomes.Select(o => o.Result).ToList();

    /// <summary>The bench output folder (results.sqlite, report/).</summary>
    public string Output { get; }

    public VigilProcess.Outcome Report { get; }
    public string ReportPath { get; }

    public void Dispose() => Data.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ReportRunCollection : ICollectionFixture<ReportRun>
{
    public const string Name = "report run";
}
