using Spectre.Console;
using Vigil.Cli.Commands;

// Spectre assumes 80 columns when output goes to a file or pipe, which squeezes the result tables unreadably.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;

var root = VigilCommand.Create();
return CommandRunner.Run(() => root.Parse(ConfigFile.Expand(root, args)).Invoke());
