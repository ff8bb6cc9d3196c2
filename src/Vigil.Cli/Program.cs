using System.CommandLine;
using Spectre.Console;
using Vigil;
using Vigil.Backbones;
using Vigil.Cli.Commands;
using Vigil.Registry;

NativeRuntime.PrepareEnvironment(); // before anything loads libtorch

// Spectre assumes 80 columns when output goes to a file or pipe; logs are read wider than that.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;

RootCommand root;
string[] expanded;
try
{
    DetectorPlugins.LoadFromEnvironment(); // before the command tree, whose help lists the models
    root = VigilCommand.Create();
    // An unknown command would otherwise be ignored by --help, which then prints the root help and succeeds.
    if (args.Length > 0 && !args[0].StartsWith('-') && !root.Subcommands.Any(c => c.Name == args[0] || c.Aliases.Contains(args[0])))
        throw new VigilInputException($"Unknown command '{args[0]}'. Commands: {string.Join(", ", root.Subcommands.Select(c => c.Name))} (vigil --help).");
    expanded = ConfigFile.Expand(root, args);
}
catch (VigilInputException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return CommandRunner.InputError;
}
return root.Parse(expanded).Invoke();
