using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Registry;
using Vigil.Tests.Benchmark;
using Vigil.UseCases;
using Vigil.Weights;

namespace Vigil.Tests.Server;

/// <summary>
/// Two small models trained once on a tiny synthetic category (the ImageNet ResNet18 at 64×64): "first" (PaDiM) and
/// "second" (PaDiM with fewer channels, so its scores and threshold differ), and the test images they score.
/// </summary>
public sealed class ServedModels : IDisposable
{
    public TinySynthetic Data { get; } = new(trainCount: 16, testGoodCount: 3, perDefectCount: 1);

    public string First { get; }
    public string Second { get; }
    public IReadOnlyList<string> TestImages { get; }

    public ServedModels()
    {
        var backbone = new BackboneChoice(ResNet18ImageNet.Name, WeightSource.Pretrained, new FeatureExtractorOptions { Resize = 64 });
        First = Train("padim:dims=20", backbone);
        Second = Train("padim:dims=8", backbone);
        TestImages = Data.Load().Test.Select(s => s.SourcePath).ToList();
    }

    private string Train(string model, BackboneChoice backbone)
    {
        var path = Path.Combine(Data.Scratch("trained"), $"{Guid.NewGuid():N}.vgl");
        TrainModel.Run(new TrainRequest
        {
            Model = DetectorRegistry.Parse(model), Backbone = backbone, Dataset = $"synthetic:{Data.Root}", Category = TinySynthetic.Category,
            OutputPath = path, Calibration = new CalibrationRequest(ValidationRatio: 0.3),
        }, SilentDisplay.Instance);
        return path;
    }

    /// <summary>A fresh folder holding <paramref name="models"/> (name → trained file).</summary>
    public string Folder(params (string Name, string File)[] models)
    {
        var folder = Data.Scratch($"models-{Guid.NewGuid():N}");
        foreach (var (name, file) in models) File.Copy(file, Path.Combine(folder, name + ".vgl"));
        return folder;
    }

    public void Dispose() => Data.Dispose();
}
