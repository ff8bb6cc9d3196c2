using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using static TorchSharp.torch;

namespace Vigil.Detectors.Stpm;

/// <summary>
/// STPM, student-teacher feature pyramid matching (Wang et al., BMVC 2021), as the official code computes it: a student
/// ResNet trained from scratch (torchvision initialisation) reproduces the frozen pretrained teacher's layer1–3
/// features. Features are L2-normalised along channels; the loss is, summed over layers, the mean over positions of
/// the squared distance; a position's layer score is that squared distance, each layer's map is upsampled bilinearly
/// to the finest layer's grid and the maps are multiplied (64×64 for a 256×256 input); the image score is the map's maximum.
/// </summary>
public sealed class StpmDetector : TrainedDetector
{
    public const string ModelName = "stpm";
    private const float NormalisationEpsilon = 1e-12f; // F.normalize's default
    private readonly ResNet _student;
    private readonly int[] _layerIndices;
    private readonly int[] _studentStages;

    public StpmDetector(IFeatureExtractor teacher, StpmOptions options, long seed) : base(teacher, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(teacher, options.Layers, ModelName);
        _studentStages = options.Layers.Select(l => l switch
        {
            "layer1" => 1, "layer2" => 2, "layer3" => 3, "layer4" => 4,
            _ => throw new VigilInputException($"STPM layer '{l}' is not a ResNet stage (layer1..layer4)."),
        }).ToArray();
        _student = new ResNet(StudentArchitecture(teacher, _layerIndices, _studentStages), classes: 0, stages: _studentStages.Max());
        _student.InitialiseRandomly(seed);
    }

    public override string Model => ModelName;
    public new StpmOptions Options => (StpmOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("student", _student)];

    public override bool NeedsImages => true;

    protected override double MapSigma => Options.MapSigma;

    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        var student = _student.ForwardStages(images!, _studentStages.Max());
        Tensor? loss = null;
        for (int l = 0; l < _layerIndices.Length; l++)
        {
            var distance = SquaredDistance(frozen[_layerIndices[l]], student[_studentStages[l] - 1]).mean();
            loss = loss is null ? distance : loss + distance;
        }
        return loss!;
    }

    /// <summary>The official code keeps the epoch with the lowest mean anomaly map on the validation images.</summary>
    public override Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => Maps(images, frozen).mean();

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var student = _student.ForwardStages(images!, _studentStages.Max());
        var finest = _layerIndices.Select(i => frozen[i]).MaxBy(f => f.shape[2] * f.shape[3])!;
        Tensor? map = null;
        for (int l = 0; l < _layerIndices.Length; l++)
        {
            var layer = FeatureMaps.Resize(SquaredDistance(frozen[_layerIndices[l]], student[_studentStages[l] - 1]).unsqueeze(1),
                finest.shape[2], finest.shape[3], InterpolationMode.Bilinear);
            map = map is null ? layer : Options.Combine == LayerCombination.Product ? map * layer : map + layer;
        }
        return map!.squeeze(1);
    }

    /// <summary>Σ_c (t̂ − ŝ)² per position [N, h, w] of channel-normalised teacher and student features.</summary>
    private static Tensor SquaredDistance(Tensor teacher, Tensor student) =>
        (nn.functional.normalize(teacher, p: 2, dim: 1, eps: NormalisationEpsilon) - nn.functional.normalize(student, p: 2, dim: 1, eps: NormalisationEpsilon))
            .square().sum(1);

    /// <summary>
    /// The student has the teacher's architecture: torchvision's ResNet18 for the ImageNet ResNet18s (whose extra
    /// fourth-stage block the student never reaches), the same torchvision ResNet for the others.
    /// </summary>
    private static ResNetArchitecture StudentArchitecture(IFeatureExtractor teacher, int[] layerIndices, int[] stages)
    {
        var architecture = TorchBackbones.Contains(teacher.Name) && teacher.Name != ResNetArchitecture.ResNet18ImageNet.Name
            ? TorchBackbones.Architecture(teacher.Name) : ResNetArchitecture.ResNet18;
        for (int l = 0; l < stages.Length; l++)
        {
            int expected = teacher.LayerShapes[layerIndices[l]].Channels, student = architecture.StageChannels(stages[l]);
            if (expected != student)
                throw new VigilInputException($"STPM's student ({architecture.Name}) gives {student} channels at {teacher.Layers[layerIndices[l]]} but the " +
                    $"teacher '{teacher.Name}' gives {expected}; use a ResNet backbone (resnet18_imagenet in the paper).");
        }
        return architecture;
    }

    /// <summary>Rebuilds a saved STPM on <paramref name="teacher"/>.</summary>
    public static StpmDetector Restore(ModelArchiveReader archive, StpmOptions options, IFeatureExtractor teacher) =>
        Restored(new StpmDetector(teacher, options, seed: 0), archive);
}
