using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Vigil.Backbones;

/// <summary>The residual block kind: two 3×3 convolutions (ResNet18/34) or 1×1-3×3-1×1 with 4× expansion (ResNet50+).</summary>
public enum ResNetBlock { Basic, Bottleneck }

/// <summary>A ResNet variant: block kind, blocks per stage and bottleneck width per group (64; 128 for Wide ResNet).</summary>
public sealed record ResNetArchitecture(string Name, ResNetBlock Block, int[] BlocksPerStage, int WidthPerGroup = 64)
{
    public int Expansion => Block == ResNetBlock.Basic ? 1 : 4;

    /// <summary>Output channels of stage 1..4 (layer1..layer4).</summary>
    public int StageChannels(int stage) => 64 * (1 << (stage - 1)) * Expansion;

    public static readonly ResNetArchitecture ResNet18 = new("resnet18", ResNetBlock.Basic, [2, 2, 2, 2]);
    public static readonly ResNetArchitecture ResNet34 = new("resnet34", ResNetBlock.Basic, [3, 4, 6, 3]);
    public static readonly ResNetArchitecture ResNet50 = new("resnet50", ResNetBlock.Bottleneck, [3, 4, 6, 3]);
    public static readonly ResNetArchitecture WideResNet50_2 = new("wide_resnet50_2", ResNetBlock.Bottleneck, [3, 4, 6, 3], 128);

    /// <summary>The ImageNet ResNet18 of ML.NET's DnnImageFeaturizer (CNTK-trained): torchvision's resnet18 with a third block in stage 4.</summary>
    public static readonly ResNetArchitecture ResNet18ImageNet = new("resnet18_imagenet", ResNetBlock.Basic, [2, 2, 2, 3]);
}

/// <summary>
/// torchvision's ResNet (v1.5: the stride sits on the 3×3 convolution of a bottleneck), with its exact module,
/// parameter and buffer names (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, fc, …), so a torchvision
/// state_dict loads strictly. <see cref="ForwardStages"/> stops after the deepest stage asked for.
/// </summary>
public sealed class ResNet : Module<Tensor, Tensor>
{
    // Field names are the torchvision names: RegisterComponents registers each module under its field name.
    private readonly Conv2d conv1;
    private readonly KeptScalarBatchNorm bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential? layer2, layer3, layer4;
    private readonly AdaptiveAvgPool2d? avgpool;
    private readonly Linear? fc;

    public ResNetArchitecture Architecture { get; }

    /// <summary>The stages built (4 for a whole network).</summary>
    public int Stages { get; }

    /// <param name="classes">Outputs of the classifier <c>fc</c>; 0 builds no classifier, and <see cref="forward"/> then
    /// returns the globally pooled features [N, 512·expansion] (for weights published without a head).</param>
    /// <param name="stages">Stages built (layer1..layer<paramref name="stages"/>); fewer than 4 builds a truncated network
    /// for <see cref="ForwardStages"/> only (e.g. a student that mimics layers 1–3), without pooling or classifier.</param>
    public ResNet(ResNetArchitecture architecture, int classes = 1000, int stages = 4) : base(architecture.Name)
    {
        Architecture = architecture;
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, 4);
        Stages = stages;
        conv1 = Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = KeptScalarBatchNorm.BatchNorm2d(64);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        int inChannels = 64;
        var built = new Sequential?[4];
        for (int s = 0; s < stages; s++)
        {
            int planes = 64 << s, stride = s == 0 ? 1 : 2;
            var blocks = new List<Module<Tensor, Tensor>>();
            for (int b = 0; b < architecture.BlocksPerStage[s]; b++)
            {
                int blockStride = b == 0 ? stride : 1;
                int outChannels = planes * architecture.Expansion;
                // torchvision adds a 1×1 projection whenever the shortcut changes resolution or width.
                Sequential? downsample = b == 0 && (blockStride != 1 || inChannels != outChannels)
                    ? Sequential(Conv2d(inChannels, outChannels, 1, stride: blockStride, bias: false), KeptScalarBatchNorm.BatchNorm2d(outChannels))
                    : null;
                blocks.Add(architecture.Block == ResNetBlock.Basic
                    ? new BasicBlock(inChannels, planes, blockStride, downsample)
                    : new Bottleneck(inChannels, planes, blockStride, downsample, architecture.WidthPerGroup));
                inChannels = outChannels;
            }
            built[s] = Sequential(blocks.ToArray());
        }
        (layer1, layer2, layer3, layer4) = (built[0]!, built[1], built[2], built[3]);
        ArgumentOutOfRangeException.ThrowIfNegative(classes);
        if (stages == 4)
        {
            avgpool = AdaptiveAvgPool2d(1);
            fc = classes > 0 ? Linear(512 * architecture.Expansion, classes) : null;
        }
        RegisterComponents();
    }

    /// <summary>
    /// Re-initialises the weights the way torchvision does (Kaiming-normal fan-out convolutions, BatchNorm γ=1 β=0 with fresh running statistics,
    /// PyTorch's default Linear init, i.e. uniform ±1/√fan_in for weight and bias), drawing from <paramref name="seed"/> alone.
    /// </summary>
    public void InitialiseRandomly(long seed)
    {
        using var noGrad = no_grad();
        // An own generator: TorchSharp's nn.init helpers take none and would draw from the shared global one.
        using var generator = new Generator((ulong)seed);
        foreach (var (_, m) in named_modules()) InitialiseLikeTorchvision(m, generator);
    }

    /// <summary>
    /// torchvision's ResNet initialisation of one module (no-grad context expected): a Conv2d Kaiming-normal fan-out,
    /// a BatchNorm2d γ=1 β=0 with fresh running statistics, a Linear PyTorch's default uniform ±1/√fan_in; others untouched.
    /// </summary>
    internal static void InitialiseLikeTorchvision(Module module, Generator generator)
    {
        switch (module)
        {
            case Conv2d c:
                var w = c.weight!;
                double fanOut = w.shape[0] * w.shape[2] * w.shape[3];
                w.normal_(0, Math.Sqrt(2 / fanOut), generator);
                break;
            case KeptScalarBatchNorm b:
                b.weight!.fill_(1);
                b.bias!.fill_(0);
                b.running_mean!.zero_();
                b.running_var!.fill_(1);
                b.num_batches_tracked!.zero_();
                break;
            case Linear l:
                double bound = 1 / Math.Sqrt(l.weight!.shape[1]);
                l.weight!.uniform_(-bound, bound, generator);
                l.bias!.uniform_(-bound, bound, generator);
                break;
        }
    }

    public override Tensor forward(Tensor input)
    {
        if (avgpool is null) throw new InvalidOperationException($"This {Architecture.Name} has only {Stages} stages; use ForwardStages.");
        using var scope = NewDisposeScope();
        var x = ForwardStages(input, 4)[^1];
        x = flatten(avgpool.call(x), 1);
        return (fc?.call(x) ?? x).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the stem and stages 1..<paramref name="deepestStage"/> only, returning each stage's output.</summary>
    public IReadOnlyList<Tensor> ForwardStages(Tensor input, int deepestStage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(deepestStage, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(deepestStage, Stages);
        var x = Stem(input);
        var outputs = new List<Tensor>(deepestStage);
        for (int s = 1; s <= deepestStage; s++)
        {
            x = Stage(s, x);
            outputs.Add(x);
        }
        return outputs;
    }

    /// <summary>The stem: 7×7/2 convolution, batch norm, ReLU, 3×3/2 max pool (what stage 1 reads).</summary>
    public Tensor Stem(Tensor input) => maxpool.call(functional.relu(bn1.call(conv1.call(input))));

    /// <summary>Stage <paramref name="stage"/> (1-based) alone, for a network that acts between stages (RegAD's spatial transformers).</summary>
    public Tensor Stage(int stage, Tensor x)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stage, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stage, Stages);
        Sequential?[] stages = [layer1, layer2, layer3, layer4];
        return stages[stage - 1]!.call(x);
    }

    /// <summary>
    /// torchvision's BasicBlock; also the residual stage of Reverse Distillation's one-class bottleneck, and, with a
    /// transposed first convolution and the shortcut named "upsample", the block of its decoder (de_resnet.py).
    /// </summary>
    internal sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> conv1;
        private readonly Conv2d conv2;
        private readonly KeptScalarBatchNorm bn1, bn2;
        // At most one of them: torchvision names the shortcut projection downsample, de_resnet.py upsample.
        private readonly Sequential? downsample, upsample;

        public BasicBlock(int inChannels, int planes, int stride, Sequential? downsample)
            : this(Conv2d(inChannels, planes, 3, stride: stride, padding: 1, bias: false), planes, downsample, upsample: null) { }

        /// <param name="conv1">The first convolution, into <paramref name="planes"/> channels; it changes the resolution where the block does.</param>
        public BasicBlock(Module<Tensor, Tensor> conv1, int planes, Sequential? downsample, Sequential? upsample) : base(nameof(BasicBlock))
        {
            this.conv1 = conv1;
            bn1 = KeptScalarBatchNorm.BatchNorm2d(planes);
            conv2 = Conv2d(planes, planes, 3, padding: 1, bias: false);
            bn2 = KeptScalarBatchNorm.BatchNorm2d(planes);
            this.downsample = downsample;
            this.upsample = upsample;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = functional.relu(bn1.call(conv1.call(x)));
            y = bn2.call(conv2.call(y));
            var identity = (downsample ?? upsample)?.call(x) ?? x;
            return functional.relu(y.add_(identity));
        }
    }

    /// <summary>
    /// torchvision's Bottleneck (stride on the 3×3 convolution); also the residual stage of Reverse Distillation's
    /// one-class bottleneck, and, with a transposed middle convolution and the shortcut named "upsample", the block of
    /// its decoder (de_resnet.py).
    /// </summary>
    internal sealed class Bottleneck : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv3;
        private readonly Module<Tensor, Tensor> conv2;
        private readonly KeptScalarBatchNorm bn1, bn2, bn3;
        private readonly Sequential? downsample, upsample;

        public Bottleneck(int inChannels, int planes, int stride, Sequential? downsample, int widthPerGroup)
            : this(inChannels, planes, widthPerGroup, width => Conv2d(width, width, 3, stride: stride, padding: 1, bias: false), downsample, upsample: null) { }

        /// <param name="conv2">Makes the middle convolution (width → width channels); it changes the resolution where the block does.</param>
        public Bottleneck(int inChannels, int planes, int widthPerGroup, Func<int, Module<Tensor, Tensor>> conv2, Sequential? downsample, Sequential? upsample)
            : base(nameof(Bottleneck))
        {
            int width = planes * widthPerGroup / 64;
            conv1 = Conv2d(inChannels, width, 1, bias: false);
            bn1 = KeptScalarBatchNorm.BatchNorm2d(width);
            this.conv2 = conv2(width);
            bn2 = KeptScalarBatchNorm.BatchNorm2d(width);
            conv3 = Conv2d(width, planes * 4, 1, bias: false);
            bn3 = KeptScalarBatchNorm.BatchNorm2d(planes * 4);
            this.downsample = downsample;
            this.upsample = upsample;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = functional.relu(bn1.call(conv1.call(x)));
            y = functional.relu(bn2.call(conv2.call(y)));
            y = bn3.call(conv3.call(y));
            var identity = (downsample ?? upsample)?.call(x) ?? x;
            return functional.relu(y.add_(identity));
        }
    }
}
