using System.Reflection;
using Vigil.Detectors;

namespace Vigil.Registry;

/// <summary>
/// Detectors from outside Vigil: assemblies named in <see cref="Variable"/> are loaded and every public detector
/// module in them (a non-abstract <see cref="IDetectorModule"/> with a parameterless constructor) is registered, so a
/// detector built against the Vigil.Models package runs in every command without rebuilding Vigil.
/// </summary>
public static class DetectorPlugins
{
    /// <summary>Paths of plugin assemblies, separated by the platform's path separator (':' on Linux).</summary>
    public const string Variable = "VIGIL_PLUGINS";

    /// <summary>Registers the detectors of the assemblies <see cref="Variable"/> names (nothing when it is unset).</summary>
    public static void LoadFromEnvironment()
    {
        var paths = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(paths)) return;
        foreach (var path in paths.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Load(path);
    }

    /// <summary>Loads one plugin assembly and registers its detector modules; returns their names.</summary>
    public static IReadOnlyList<string> Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new VigilInputException($"Detector plugin '{full}' (from ${Variable}) does not exist.");
        Assembly assembly;
        try { assembly = Assembly.LoadFrom(full); }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException)
        {
            throw new VigilInputException($"Detector plugin '{full}' is not a .NET assembly Vigil can load ({e.Message}).", e);
        }
        var modules = assembly.GetExportedTypes()
            .Where(t => typeof(IDetectorModule).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) != null)
            .Select(t => (IDetectorModule)Activator.CreateInstance(t)!)
            .ToList();
        if (modules.Count == 0) throw new VigilInputException($"Detector plugin '{full}' holds no public detector module (a class implementing IDetectorModule with a parameterless constructor).");
        foreach (var module in modules)
        {
            try { DetectorRegistry.Register(module); }
            catch (ArgumentException e) { throw new VigilInputException($"Detector plugin '{full}': {e.Message}", e); }
        }
        return modules.Select(m => m.Info.Name).ToList();
    }
}
