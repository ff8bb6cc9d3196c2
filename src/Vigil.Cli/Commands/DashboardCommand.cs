using System.CommandLine;
using Vigil.Server;

namespace Vigil.Cli.Commands;

/// <summary>`vigil dashboard`: the web dashboard of a results store alone (no models); a thin front end over <see cref="VigilServer"/>.</summary>
internal static class DashboardCommand
{
    public static Command Create()
    {
        var results = SharedOptions.ResultsStore();
        results.Required = true;
        var (host, port, urls) = ServeCommand.ListenOptions();
        var command = new Command("dashboard",
            "Show a results store in the browser: runs (and the progress of a running one), cells filtered by model, dataset and setting, " +
            "the report's metric tables and plots. Example: vigil dashboard --results out/results.sqlite, then open http://127.0.0.1:8080")
        {
            results, host, port, urls,
        };
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            var options = new ServerOptions
            {
                Results = parse.GetValue(results),
                Urls = parse.GetValue(urls) ?? $"http://{parse.GetValue(host)}:{parse.GetValue(port)}",
            };
            return ServeCommand.RunUntilStopped(options, $"Dashboard of {options.Results}", cancel);
        }));
        return command;
    }
}
