using System.CommandLine;
using Spectre.Console;
using Vigil.Detectors;
using Vigil.Registry;

namespace Vigil.Cli.Commands;

/// <summary>`vigil models`: every registered detector with its options (key, type, default, meaning) and variants.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("model") { Description = "Show only this model (default: all).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("models",
            "List the models Vigil offers: what each does, where it comes from, what it can do, and its options. " +
            "Options are given as -m name:key=value,key=value (lists joined with +), or in a config file.")
        {
            name,
        };
        command.SetAction(parse => CommandRunner.Run(_ =>
        {
            var modules = parse.GetValue(name) is { } one ? [DetectorRegistry.Get(one)] : DetectorRegistry.All;
            foreach (var module in modules) Render(module);
            return 0;
        }));
        return command;
    }

    private static void Render(IDetectorModule module)
    {
        var info = module.Info;
        AnsiConsole.MarkupLineInterpolated($"[bold]{info.Name}[/]: {info.Description}");
        AnsiConsole.MarkupLineInterpolated($"  {info.Paper}; follows {info.OfficialCode}");
        AnsiConsole.MarkupLineInterpolated($"  can: {Capabilities(info.Capabilities)}");
        var table = new Table().AddColumns("option", "type", "default", "meaning");
        foreach (var option in module.Schema.Options)
            table.AddRow(Markup.Escape(option.Key), Markup.Escape(option.Type), Markup.Escape(option.Default), Markup.Escape(option.Description));
        AnsiConsole.Write(table);
        foreach (var variant in module.Variants)
            AnsiConsole.MarkupLineInterpolated($"  variant [bold]{info.Name}-{variant.Name}[/] = {info.Name}:{variant.Options}: {variant.Description}");
        AnsiConsole.WriteLine();
    }

    private static string Capabilities(DetectorCapabilities capabilities)
    {
        var names = new List<string> { "image scores" };
        if (capabilities.HasFlag(DetectorCapabilities.PixelMaps)) names.Add("anomaly maps");
        if (capabilities.HasFlag(DetectorCapabilities.Supervised)) names.Add("learn from labelled anomalies");
        if (capabilities.HasFlag(DetectorCapabilities.Continual)) names.Add("continual learning");
        names.Add(capabilities.HasFlag(DetectorCapabilities.GradientTrained) ? "trains a network" : "one pass over frozen features");
        return string.Join(", ", names);
    }
}
