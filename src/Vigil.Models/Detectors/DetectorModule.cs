using Vigil.Backbones;
using Vigil.Detectors.Options;
using Vigil.Detectors.Persistence;

namespace Vigil.Detectors;

/// <summary>What Vigil says about a detector: its name, what it does, where it comes from, and what it can do.</summary>
/// <param name="Name">The registered name users write (lower case), e.g. "patchcore".</param>
/// <param name="Paper">Authors, venue and year, e.g. "Roth et al., CVPR 2022".</param>
/// <param name="OfficialCode">The reference implementation Vigil follows (deviations are listed in docs/models.md).</param>
public sealed record DetectorInfo(string Name, string Description, string Paper, string OfficialCode, DetectorCapabilities Capabilities)
{
    /// <summary>
    /// The network input of the reference code (resize, crop, filter, mask rule; see docs/protocol.md), used with the
    /// reference protocol; null for a detector without a backbone or without a documented one.
    /// </summary>
    public FeatureExtractorOptions? ReferenceInput { get; init; }
}

/// <summary>A named set of option values, written <c>&lt;model&gt;-&lt;variant&gt;</c> (e.g. "patchcore-softpatch").</summary>
/// <param name="Options">Option text as on the command line, e.g. "denoising=lof".</param>
public sealed record DetectorVariant(string Name, string Description, string Options);

/// <summary>
/// A detector's registration: everything the rest of Vigil needs to offer it (CLI, config files, bench, continual
/// runs, model files, reports, perf). Each detector folder has one module; <see cref="Registry.DetectorRegistry"/> lists them.
/// </summary>
public interface IDetectorModule
{
    DetectorInfo Info { get; }
    OptionSchema Schema { get; }
    IReadOnlyList<DetectorVariant> Variants { get; }

    /// <summary>A trainer for these options (of this module's options type).</summary>
    IDetectorTrainer CreateTrainer(IDetectorOptions options);

    /// <summary>
    /// Rebuilds a fitted detector from a model archive whose manifest names this model; <paramref name="backbone"/>
    /// opens the backbone the archive's reference names (the archive has checked it). Missing or inconsistent state
    /// is a corrupt-file error (<see cref="ModelArchiveReader.Corrupt"/>).
    /// </summary>
    IDetector Load(ModelArchiveReader archive, IDetectorOptions options, BackboneResolver backbone);
}

/// <summary>The typed base of a detector module: options of type <typeparamref name="TOptions"/>.</summary>
public abstract class DetectorModule<TOptions> : IDetectorModule where TOptions : class, IDetectorOptions, new()
{
    public abstract DetectorInfo Info { get; }
    public OptionSchema Schema => OptionSchema.For(typeof(TOptions));
    public virtual IReadOnlyList<DetectorVariant> Variants => [];

    protected abstract IDetectorTrainer CreateTrainer(TOptions options);
    protected abstract IDetector Load(ModelArchiveReader archive, TOptions options, BackboneResolver backbone);

    IDetectorTrainer IDetectorModule.CreateTrainer(IDetectorOptions options) => CreateTrainer(Typed(options));
    IDetector IDetectorModule.Load(ModelArchiveReader archive, IDetectorOptions options, BackboneResolver backbone) => Load(archive, Typed(options), backbone);

    private TOptions Typed(IDetectorOptions options) => options as TOptions
        ?? throw new ArgumentException($"{Info.Name} takes {typeof(TOptions).Name}, not {options.GetType().Name}.", nameof(options));
}
