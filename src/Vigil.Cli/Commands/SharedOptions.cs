using System.CommandLine;
using Vigil.Data;
using Vigil.Results;
using Vigil.Settings;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>Options several commands share, defined once so their names and help read the same everywhere.</summary>
internal static class SharedOptions
{
    public static Option<string[]> Category() => new("--category", "-c")
    {
        Description = "Categories to use (repeat or comma-separate); default: all categories of the dataset.",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>The categories given, split at commas; empty = all.</summary>
    public static IReadOnlyList<string> Categories(string[]? values) =>
        (values ?? []).SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    public static Option<string> Data() => new("--data", "-d")
    {
        Description = "Dataset spec, e.g. synthetic, mtd, ksdd, mvtec:/data/mvtec, folder:/images (see 'vigil datasets').",
        DefaultValueFactory = _ => "synthetic",
    };

    /// <summary>--setting: an IM-IAD learning setting; repeatable where a command runs several.</summary>
    public static Option<string[]> Settings(bool repeatable) => new("--setting", "-s")
    {
        Description = (repeatable ? "Learning settings to run (repeat the option for several):" : "Learning setting:") + Environment.NewLine + LearningSettings.Forms,
        DefaultValueFactory = _ => ["unsupervised"],
        Arity = repeatable ? ArgumentArity.OneOrMore : ArgumentArity.ExactlyOne,
    };

    public static Option<bool> SkipCorrupt() => new("--skip-corrupt")
    {
        Description = "Skip images or masks that cannot be decoded (and list them) instead of stopping.",
    };

    public static Option<string?> ResultsStore() => new("--results")
    {
        Description = $"Results store: {Results.ResultsStore.AcceptedForms}.",
    };

    public static Option<InputProtocol> Protocol() => new("--protocol")
    {
        Description = "backbone: every model gets the backbone's input (its default or --resize/--crop), pixel metrics on the whole image; " +
                      "reference: each model's reference-code input (short side 256, centre crop 224, its filter and mask rule), pixel metrics in that view (docs/protocol.md).",
        DefaultValueFactory = _ => InputProtocol.Backbone,
    };

    public static Option<bool> Wide() => new("--wide")
    {
        Description = "Print every column of the results table (about 170 characters wide); results.csv always has them all.",
    };

    public static Option<double> TrainRatio() => new("--train-ratio")
    {
        Description = "Fraction of normal images used for training where a dataset has no official split (MTD, KSDD, folders).",
        DefaultValueFactory = _ => SplitOptions.DefaultTrainRatio,
    };

    public static SplitOptionSet Split() => new();

    /// <summary>--train-ratio and --split-seed: how datasets without an official split are split.</summary>
    internal sealed class SplitOptionSet
    {
        private readonly Option<double> _ratio = TrainRatio();
        private readonly Option<int> _seed = new("--split-seed")
        {
            Description = "Seed of that split.",
            DefaultValueFactory = _ => SplitOptions.DefaultSeed,
        };

        public void AddTo(Command command)
        {
            command.Options.Add(_ratio);
            command.Options.Add(_seed);
        }

        public SplitOptions Read(ParseResult parse) => new(parse.GetValue(_ratio), parse.GetValue(_seed));

        /// <summary>The ratio given on the command line; null when left to its default (e.g. to use the one a model was trained with).</summary>
        public double? GivenRatio(ParseResult parse) => Given(parse, _ratio) ? parse.GetValue(_ratio) : null;

        public int? GivenSeed(ParseResult parse) => Given(parse, _seed) ? parse.GetValue(_seed) : null;

        private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };
    }

    /// <summary>The run record's description of this command: its command line and every option after defaults.</summary>
    public static RunDescription Describe(ParseResult parse) =>
        new("vigil " + string.Join(" ", parse.Tokens.Select(t => t.Value.Contains(" ") ? $"\"{t.Value}\"" : t.Value)), ConfigFile.Resolved(parse));
}
