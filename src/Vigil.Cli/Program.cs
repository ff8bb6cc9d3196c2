using System.CommandLine;
using Vigil.Cli.Commands;

var root = new RootCommand(
    "Vigil: industrial image anomaly detection. Train detectors on normal images, find and localise defects, " +
    "and benchmark algorithms with exact metrics.");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DatasetCommands.Create());
root.Subcommands.Add(PerfCommands.Create());
return root.Parse(args).Invoke();
