using System.CommandLine;

namespace Vigil.Cli.Commands;

/// <summary>The `vigil` command tree.</summary>
internal static class VigilCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand(
            "Vigil: industrial image anomaly detection. Train detectors on normal images, find and localise defects, " +
            "and benchmark algorithms with exact metrics.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TestCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(DashboardCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(QueueCommands.Worker());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(DatasetCommands.Create());
        root.Subcommands.Add(PerfCommands.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Options.Add(ConfigFile.Option());
        return root;
    }
}
