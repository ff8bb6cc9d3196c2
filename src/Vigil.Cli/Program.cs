using System.CommandLine;
using Spectre.Console;
using Vigil.Cli.Commands;

// Spectre assumes 80 columns when output goes to a file or pipe, which squeezes the result tables unreadably.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;

var root = new RootCommand(
    "Vigil: industrial image anomaly detection. Train detectors on normal images, find and localise defects, " +
    "and benchmark algorithms with exact metrics.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(TestCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DatasetCommands.Create());
root.Subcommands.Add(PerfCommands.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Options.Add(ConfigFile.Option());
return CommandRunner.Run(() => root.Parse(ConfigFile.Expand(args)).Invoke());
