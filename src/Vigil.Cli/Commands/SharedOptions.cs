using System.CommandLine;
using Vigil.Data;
using Vigil.Settings;

namespace Vigil.Cli.Commands;

/// <summary>Options several commands share, defined once so their names and help read the same everywhere.</summary>
internal static class SharedOptions
{
    public static Option<string[]> Category() => new("--category", "-c")
    {
        Description = "Categories to use (repeat or comma-separate); default: all categories of the dataset.",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>The categories the user asked for, validated against the dataset; all of them when none was asked for.</summary>
    public static IReadOnlyList<string> SelectCategories(IDataset dataset, string[]? requested)
    {
        var names = (requested ?? []).SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0) return dataset.Categories;
        var unknown = names.Where(n => !dataset.Categories.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new VigilInputException(
                $"Unknown categor{(unknown.Count == 1 ? "y" : "ies")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} in dataset '{dataset.Name}'. Known: {string.Join(", ", dataset.Categories)}.");
        return names;
    }

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

    /// <summary>The one category to use: the requested one (validated), or the dataset's only category.</summary>
    public static string SingleCategory(IDataset dataset, string? requested)
    {
        if (requested is { Length: > 0 }) return SelectCategories(dataset, [requested]).Single();
        if (dataset.Categories.Count == 1) return dataset.Categories[0];
        throw new VigilInputException($"Dataset '{dataset.Name}' has several categories; choose one with --category: {string.Join(", ", dataset.Categories)}.");
    }

    public static SplitOptionSet Split() => new();

    /// <summary>--train-ratio and --split-seed: how datasets without an official split are split.</summary>
    internal sealed class SplitOptionSet
    {
        private readonly Option<double> _ratio = new("--train-ratio")
        {
            Description = "Fraction of normal images used for training where a dataset has no official split (MTD, KSDD, folders).",
            DefaultValueFactory = _ => SplitOptions.DefaultTrainRatio,
        };
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

        /// <summary>The values given on the command line, else <paramref name="fallback"/>'s (e.g. the split a model was trained with).</summary>
        public SplitOptions ReadOr(ParseResult parse, SplitOptions fallback) => new(
            Given(parse, _ratio) ? parse.GetValue(_ratio) : fallback.TrainRatio,
            Given(parse, _seed) ? parse.GetValue(_seed) : fallback.Seed);

        private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };
    }
}
