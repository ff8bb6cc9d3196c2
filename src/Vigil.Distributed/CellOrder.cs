using System.Text.Json;
using System.Text.Json.Nodes;
using Vigil.Backbones;
using Vigil.Detectors;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Settings;
using Vigil.UseCases;
using Vigil.Weights;

namespace Vigil.Distributed;

/// <summary>
/// What a queued job carries: the cell's specification (its identity) and the few choices of the grid that are not in
/// it but are needed to run it again (where the weights are, the requested input geometry, the protocol, whether corrupt
/// files are skipped). A worker rebuilds the cell from this with the same code as a single-machine run
/// (<see cref="BenchmarkGrid"/>) and refuses to run it when the rebuilt specification hashes differently (another Vigil
/// version, other weights or data on that machine). Plain data, sent as JSON: never a closure.
/// </summary>
/// <param name="Weights">The backbone weights as given on the command line ("pretrained", a file path, "random:SEED"): a file must be at the same path on the workers.</param>
/// <param name="Input">The input geometry requested with --resize/--crop; null = the backbone's own.</param>
public sealed record CellOrder(CellSpec Spec, string Weights, FeatureExtractorOptions? Input, InputProtocol Protocol, bool SkipCorrupt)
{
    /// <summary>The queue of models that train networks by gradient descent (long cells, many cores).</summary>
    public const string TrainedQueue = "trained";

    /// <summary>The queue of models that fit a memory bank or statistics over frozen features in one pass (short cells, much memory).</summary>
    public const string MemoryQueue = "memory";

    public static readonly IReadOnlyList<string> Queues = [TrainedQueue, MemoryQueue];

    /// <summary>The resource class of a model, from its registration's capabilities.</summary>
    public static string QueueFor(ModelSpec model) =>
        model.Module.Info.Capabilities.HasFlag(DetectorCapabilities.GradientTrained) ? TrainedQueue : MemoryQueue;

    public string Hash => Spec.Hash;

    public string ToJson() => JsonSerializer.Serialize(this, RecordJson.Compact);

    public static CellOrder FromJson(string json) =>
        JsonSerializer.Deserialize<CellOrder>(json, RecordJson.Compact) ?? throw new VigilInputException("A queued cell order is empty.");

    /// <summary>The order of a grid cell of <paramref name="request"/>.</summary>
    public static CellOrder For(BenchmarkRequest request, GridCell cell) =>
        new(cell.Spec, request.Backbone.Weights.ToString(), request.Backbone.Input, request.Protocol, request.SkipCorrupt);

    /// <summary>
    /// The one-cell benchmark request this order came from: its model (registered name, every option, tiling), dataset,
    /// category, setting, seed and backbone. Unknown models, datasets or categories are input errors.
    /// </summary>
    public BenchmarkRequest Request(string outputDirectory, string? resultsStore)
    {
        var module = DetectorRegistry.Get(Spec.Model);
        var options = JsonNode.Parse(Spec.ModelOptions) as JsonObject
                      ?? throw new VigilInputException($"Cell {Spec}: its model options are not a JSON object: {Spec.ModelOptions}");
        return new BenchmarkRequest
        {
            Models = [new ModelSpec(module, module.Schema.FromJson(module.Info.Name, options)) { Tiling = Spec.Tiling }],
            Backbone = new BackboneChoice(Spec.Backbone, WeightSource.Parse(Weights), Input),
            Datasets = [Spec.DatasetSpec],
            Categories = [Spec.Category],
            Settings = [LearningSettings.Parse(Spec.SettingSpec)],
            Seeds = [Spec.Seed],
            TrainRatio = Spec.TrainRatio,
            SkipCorrupt = SkipCorrupt,
            Evaluation = Spec.Evaluation, // the protocol's evaluation: applying the protocol again leaves it as it is
            Protocol = Protocol,
            OutputDirectory = outputDirectory,
            ResultsStore = resultsStore,
            Run = RunDescription.Library("worker", "{}"),
        };
    }
}
