using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vigil.Backbones;
using Vigil.Deployment;

namespace Vigil.Server;

/// <summary>A model as served: its file, when it was loaded, and the deployed model (detector + calibration + provenance).</summary>
internal sealed class ServedModel(string name, string file, string sha256, DeployedModel model)
{
    private int _leases;
    private bool _retired;

    public string Name { get; } = name;
    public string File { get; } = file;
    public string Sha256 { get; } = sha256;
    public DeployedModel Model { get; } = model;
    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>A detector scores one image at a time.</summary>
    public SemaphoreSlim Turn { get; } = new(1, 1);

    /// <summary>Counts a request using the model; false when it was replaced meanwhile (look it up again).</summary>
    public bool TryLease()
    {
        lock (this)
        {
            if (_retired) return false;
            _leases++;
            return true;
        }
    }

    public void Release()
    {
        lock (this)
        {
            if (--_leases > 0 || !_retired) return;
        }
        Free();
    }

    /// <summary>Replaced or removed: freed once the last request using it is done.</summary>
    public void Retire()
    {
        lock (this)
        {
            _retired = true;
            if (_leases > 0) return;
        }
        Free();
    }

    private void Free()
    {
        Model.Dispose();
        Turn.Dispose();
    }
}

/// <summary>A failed load: the server keeps the previous version of the model (if any) and reports this.</summary>
public sealed record ModelLoadError(string File, string Message, DateTimeOffset At);

/// <summary>
/// The models of a folder, kept in step with it: every *.vgl file is loaded at start; a file added or replaced is
/// loaded in the background and swapped in atomically (requests see the old model or the new one, never half of one;
/// the old one is freed when its last request ends); a removed file's model is retired. A file that fails to load
/// leaves the previous version in service and is reported under errors.
/// </summary>
internal sealed class ModelCatalog : IDisposable
{
    public const string Extension = ".vgl";

    private readonly string _folder;
    private readonly BackboneResolver _backbone;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, ServedModel> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelLoadError> _errors = new(StringComparer.Ordinal);
    private readonly Channel<string> _changes = Channel.CreateUnbounded<string>();
    private readonly FileSystemWatcher _watcher;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reloader;

    public ModelCatalog(string folder, BackboneResolver backbone, ILogger log)
    {
        _folder = Path.GetFullPath(folder);
        _backbone = backbone;
        _log = log;
        _watcher = new FileSystemWatcher(_folder, "*" + Extension) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
        _watcher.Created += (_, e) => _changes.Writer.TryWrite(e.FullPath);
        _watcher.Changed += (_, e) => _changes.Writer.TryWrite(e.FullPath);
        _watcher.Deleted += (_, e) => _changes.Writer.TryWrite(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            _changes.Writer.TryWrite(e.OldFullPath);
            _changes.Writer.TryWrite(e.FullPath);
        };
        _watcher.EnableRaisingEvents = true;
        foreach (var file in Directory.GetFiles(_folder, "*" + Extension).Order(StringComparer.Ordinal)) Load(file);
        _reloader = Task.Run(ReloadLoop);
    }

    /// <summary>Model loads finished since start (a test waits on it after replacing a file).</summary>
    public int Generation => Volatile.Read(ref _generation);
    private int _generation;

    public IReadOnlyList<ServedModel> Models => [.. _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal)];
    public IReadOnlyList<ModelLoadError> Errors => [.. _errors.Values.OrderBy(e => e.File, StringComparer.Ordinal)];
    public IReadOnlyCollection<string> Names => _models.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The named model, leased for one request (call <see cref="ServedModel.Release"/>), or null.</summary>
    public ServedModel? Lease(string name)
    {
        while (_models.TryGetValue(name, out var model))
            if (model.TryLease()) return model;
        return null;
    }

    public static string NameOf(string file) => Path.GetFileNameWithoutExtension(file);

    private async Task ReloadLoop()
    {
        try
        {
            while (await _changes.Reader.WaitToReadAsync(_stop.Token))
            {
                // Writers replace a file in several events (create, write, rename): settle, then handle each file once.
                await Task.Delay(200, _stop.Token);
                var files = new HashSet<string>(StringComparer.Ordinal);
                while (_changes.Reader.TryRead(out var file)) files.Add(file);
                foreach (var file in files.Order(StringComparer.Ordinal))
                {
                    if (File.Exists(file)) Load(file);
                    else Remove(file);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
    }

    private void Load(string file)
    {
        string name = NameOf(file);
        try
        {
            string sha256;
            using (var stream = File.OpenRead(file)) sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (_models.TryGetValue(name, out var current) && current.Sha256 == sha256) return; // touched, not changed
            var model = new ServedModel(name, file, sha256, DeployedModel.Load(file, _backbone));
            _errors.TryRemove(file, out _);
            if (_models.TryGetValue(name, out var old) && _models.TryUpdate(name, model, old)) old.Retire();
            else _models[name] = model;
            _log.LogInformation("Model {Name} loaded from {File} (sha256 {Sha})", name, file, sha256[..12]);
        }
        catch (Exception e) // whatever a file holds, the server and its other models go on
        {
            _errors[file] = new ModelLoadError(file, e.Message, DateTimeOffset.UtcNow);
            _log.LogWarning("Model file {File} was not loaded: {Message}", file, e.Message);
        }
        finally
        {
            Interlocked.Increment(ref _generation);
        }
    }

    private void Remove(string file)
    {
        _errors.TryRemove(file, out _);
        string name = NameOf(file);
        if (_models.TryGetValue(name, out var model) && model.File == file && _models.TryRemove(KeyValuePair.Create(name, model)))
        {
            model.Retire();
            _log.LogInformation("Model {Name} removed ({File} is gone)", name, file);
        }
        Interlocked.Increment(ref _generation);
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _stop.Cancel();
        try { _reloader.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        foreach (var model in _models.Values) model.Retire();
        _models.Clear();
        _stop.Dispose();
    }
}
