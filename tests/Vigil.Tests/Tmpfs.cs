using System.Diagnostics;

namespace Vigil.Tests;

/// <summary>
/// A small RAM file system mounted for one test: a disk that is full after a few kilobytes, or a read-only folder.
/// Root ignores file permissions but not these, so they are the only way to make writes fail for root. Mounting
/// needs CAP_SYS_ADMIN; where it is not allowed, tests marked <see cref="TmpfsFactAttribute"/> are skipped and say why.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    public string Root { get; }

    /// <param name="bytes">Its size; tmpfs counts whole 4 KiB pages.</param>
    /// <param name="readOnly">Mounted read-only: every write fails with EROFS.</param>
    public Tmpfs(long bytes, bool readOnly = false)
    {
        Root = Directory.CreateTempSubdirectory("vigil-tmpfs-").FullName;
        var error = Mount(Root, bytes, readOnly);
        if (error is not null)
        {
            Directory.Delete(Root);
            throw new InvalidOperationException($"mount -t tmpfs failed: {error}");
        }
    }

    public string Path(string relative) => System.IO.Path.Combine(Root, relative);

    public void Dispose()
    {
        Run("umount", Root);
        Directory.Delete(Root);
    }

    /// <summary>Why a tmpfs cannot be mounted here (null when it can), found once by mounting one.</summary>
    public static string? WhyNotAvailable => Availability.Value;

    private static readonly Lazy<string?> Availability = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return "tmpfs needs Linux";
        var probe = Directory.CreateTempSubdirectory("vigil-tmpfs-probe-").FullName;
        try
        {
            var error = Mount(probe, 4096, readOnly: false);
            if (error is not null) return $"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {error}";
            Run("umount", probe);
            return null;
        }
        finally { Directory.Delete(probe); }
    });

    private static string? Mount(string folder, long bytes, bool readOnly) =>
        Run("mount", "-t", "tmpfs", "-o", $"size={bytes},mode=0777{(readOnly ? ",ro" : "")}", "tmpfs", folder);

    /// <summary>Runs a program; null when it succeeded, else its error output.</summary>
    private static string? Run(string program, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"exit {process.ExitCode}: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{program} cannot be run: {e.Message}";
        }
    }
}

/// <summary>A test that needs <see cref="Tmpfs"/>: skipped, with the reason, where a tmpfs cannot be mounted.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.WhyNotAvailable is { } reason) Skip = reason;
    }
}
