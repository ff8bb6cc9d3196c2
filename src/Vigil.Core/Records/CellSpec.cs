using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Records;

/// <summary>
/// Everything that determines the result of one benchmark cell (a model fitted and tested on one category of one
/// dataset, in one learning setting, with one seed). Its <see cref="Hash"/> is the cell's identity: the results store
/// finds finished cells by it (so a resumed grid skips them, and a changed default or a new Vigil version recomputes
/// them), and workers and reports name the cell by it.
/// </summary>
/// <param name="Model">The registered model name, e.g. "patchcore".</param>
/// <param name="ModelOptions">Every option of the model after defaults, as canonical JSON (sorted keys).</param>
/// <param name="ModelLabel">How tables name the model: its name, a variant name, or the name with the options that differ from the defaults.</param>
/// <param name="DatasetSpec">The dataset as given (e.g. "mtd", "mvtec:/data/mvtec"): two roots of one kind are different data.</param>
/// <param name="SettingName">The learning setting's short name (e.g. "noisy-0.15"); <paramref name="SettingSpec"/> is its full spec.</param>
/// <param name="Input">The network input geometry (resize, crop), as the backbone applies it.</param>
/// <param name="SkippedFiles">Corrupt files left out with --skip-corrupt: a different set of images is a different cell.</param>
/// <param name="ModelFileSha256">For evaluations of a saved model (<c>vigil test</c>): the model file's SHA-256; null for benchmark cells.</param>
public sealed record CellSpec(
    string Model,
    string ModelOptions,
    string ModelLabel,
    string Dataset,
    string DatasetSpec,
    string Category,
    string SettingName,
    string SettingSpec,
    int Seed,
    double TrainRatio,
    string Backbone,
    string WeightsSha256,
    string Input,
    EvaluationOptions Evaluation,
    int SkippedFiles,
    string VigilVersion,
    string? ModelFileSha256 = null)
{
    /// <summary>
    /// The tiling the model ran with (tile size, stride, image score; the model label names it too); null for whole
    /// images, and then left out of the JSON, so the specifications of untiled cells keep their hashes.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Tiling? Tiling { get; init; }

    /// <summary>How tables and the store's key columns identify the cell.</summary>
    [JsonIgnore]
    public CellKey Key => new(ModelLabel, Dataset, Category, SettingName, Seed);

    /// <summary>Lower-case hex SHA-256 of the spec's JSON: the cell's identity.</summary>
    [JsonIgnore]
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, RecordJson.Compact))));

    public override string ToString() => Key.ToString();
}

/// <summary>Identifies a cell of the benchmark grid in tables and messages.</summary>
/// <param name="Model">The model label (see <see cref="CellSpec.ModelLabel"/>).</param>
/// <param name="Setting">The learning setting that transformed the split, e.g. "unsupervised", "noisy-0.15", "fewshot-8".</param>
public sealed record CellKey(string Model, string Dataset, string Category, string Setting, int Seed)
{
    /// <summary>The IM-IAD default: train on normal images only.</summary>
    public const string Unsupervised = "unsupervised";

    public override string ToString() => $"{Model}/{Dataset}/{Category}/{Setting}/seed{Seed}";
}
