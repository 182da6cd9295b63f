using Logits.TorchSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Rectification;

/// <summary>
/// The Copilot of Transformer Copilot for a decoder-only Pilot: a small transformer decoder that reads the
/// right-shifted mistake sequence and the Pilot's memory <c>M = [X̃ ; H̄]</c> and predicts the next mistake vector
/// <c>f^C_i</c>.
/// </summary>
/// <remarks>
/// <para>Zou et al., <i>Transformer Copilot: Learning from The Mistake Log in LLM Fine-tuning</i>, arXiv 2505.16270,
/// §3 of the paper; official code <c>jiaruzouu/TransformerCopilot</c>.</para>
/// <para>Layout: <c>x_i = W_in(u_i)</c> with <c>W_in: Linear(V → d)</c> and <c>u_i = ℓ_{i−1}</c> (teacher forcing) or
/// <c>f^C_{i−1}</c> (inference), <c>u_1 = 0</c>. With <see cref="CopilotLayerLayout.CrossAttentionInEveryLayer"/> (the
/// default, the paper's layout) every layer is <c>x += SelfAttn(RMSNorm(x))</c>, <c>x += CrossAttn(RMSNorm(x), M)</c>,
/// <c>x += FFN(RMSNorm(x))</c>; with <see cref="CopilotLayerLayout.Alternating"/> layers 1, 3, … keep only the
/// self-attention and layers 2, 4, … only the cross-attention. Self-attention is causal with rotary position embeddings
/// over <c>i</c> (Su et al., RoFormer, arXiv 2104.09864; rotate-half form, base 10 000, over the first
/// <c>2⌊d_h/2⌋</c> dimensions of each head); cross-attention goes from the Copilot state to the memory, with key and value
/// projections <c>d_P → d</c> and no positional term. FFN = <c>Linear(d → FeedForwardWidth)</c>, GELU,
/// <c>Linear(FeedForwardWidth → d)</c>. The output is <c>f^C = W_out(RMSNorm(x))</c>, <c>W_out: Linear(d → V)</c>, with no
/// activation, so <c>f^C</c> is on the scale of <c>ℓ</c>.</para>
/// <para>Memory mask (mandatory, see <see cref="MemoryMask"/>): query <c>i</c> sees memory position <c>k ≤ m + i − 1</c>
/// in both halves, exactly what the Pilot saw when it predicted <c>y_i</c>; <c>e_{m+i}</c> is the embedding of
/// <c>y_i</c> itself and must stay hidden. Padding is masked too.</para>
/// <para>Construction is seeded: weights are drawn from a private <see cref="Generator"/> (2-D weights
/// <c>N(0, 0.02²)</c>, biases 0, norm gains 1), so the global torch generator is neither read nor advanced; an optional
/// initialiser runs afterwards. Dropout masks come from a second private generator seeded
/// from the same seed, so training the Copilot never perturbs a Pilot's random stream.</para>
/// </remarks>
public sealed class CopilotDecoder : Module<Tensor, Tensor, Tensor, Tensor>
{
    private const double InitStd = 0.02;

    private readonly Linear _input;
    private readonly ModuleList<CopilotLayer> _layers;
    private readonly RmsNorm _norm;
    private readonly Linear _output;
    private readonly Generator _dropoutGenerator;

    private CopilotDecoder(CopilotOptions options, long seed)
        : base(nameof(CopilotDecoder))
    {
        Options = options;
        _dropoutGenerator = new Generator(unchecked((ulong)seed ^ 0x9E3779B97F4A7C15UL), CPU);
        _input = Linear(options.VocabSize, options.Width);
        _layers = new ModuleList<CopilotLayer>();
        for (int l = 1; l <= options.Layers; l++)
        {
            bool every = options.Layout == CopilotLayerLayout.CrossAttentionInEveryLayer;
            _layers.Add(new CopilotLayer(options, self: every || l % 2 == 1, cross: every || l % 2 == 0, _dropoutGenerator));
        }

        _norm = new RmsNorm(options.Width);
        _output = Linear(options.Width, options.VocabSize);
        RegisterComponents();
    }

    /// <summary>The shape of this Copilot.</summary>
    public CopilotOptions Options { get; }

    /// <summary>The input projection <c>W_in: Linear(V → d)</c>.</summary>
    public Linear InputProjection => _input;

    /// <summary>The output projection <c>W_out: Linear(d → V)</c>.</summary>
    public Linear OutputProjection => _output;

    /// <summary>Builds a Copilot with seeded random weights.</summary>
    /// <param name="options">The shape (validated; <see cref="CopilotOptions.Heads"/> must divide <see cref="CopilotOptions.Width"/>).</param>
    /// <param name="seed">Seeds the weights and the dropout masks.</param>
    /// <param name="initializer">Runs after the random initialisation, e.g. to copy weights from a smaller model of the
    /// Pilot's family (<c>W_in</c> and <c>W_out</c> should stay new).</param>
    /// <returns>A new module on the CPU in training mode.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="CopilotOptions.Heads"/> does not divide <see cref="CopilotOptions.Width"/>.</exception>
    public static CopilotDecoder Create(CopilotOptions options, long seed = 0, Action<CopilotDecoder>? initializer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var model = new CopilotDecoder(options, seed);
        model.Initialize(seed);
        initializer?.Invoke(model);
        model.train();
        return model;
    }

    /// <summary>The final RMSNorm before <c>W_out</c>.</summary>
    internal RmsNorm FinalNorm => _norm;

    /// <summary>Checks that this Copilot can read <paramref name="pilot"/>: the same vocabulary, and keys and values
    /// sized for the Pilot's width.</summary>
    /// <exception cref="ArgumentException">Either differs (named <paramref name="paramName"/>, the Copilot's argument).</exception>
    internal void CheckReads(IPilotModel pilot, string paramName)
    {
        if (Options.VocabSize != pilot.VocabSize)
        {
            ThrowHelper.ThrowArgument(paramName, $"has vocabulary {Options.VocabSize} but the Pilot has {pilot.VocabSize}.");
        }

        if (Options.PilotWidth != pilot.Width)
        {
            ThrowHelper.ThrowArgument(paramName, $"expects Pilot width {Options.PilotWidth} but the Pilot has {pilot.Width}.");
        }
    }

    /// <summary>Layer <paramref name="index"/> (0-based).</summary>
    internal CopilotLayer LayerAt(int index) => _layers[index];

    /// <summary>The number of trainable scalars.</summary>
    public long ParameterCount => TransformerParts.ParameterCount(this);

    /// <summary>
    /// Copies the Pilot's block weights into this Copilot where the shapes allow (the paper initialises the Copilot from
    /// the Pilot's decoder); <c>W_in</c>, <c>W_out</c> and every cross-attention sub-block keep their own weights.
    /// </summary>
    /// <param name="pilot">The (pre-trained) Pilot.</param>
    /// <param name="pilotLayers">For each Copilot layer, the index of the Pilot block it copies; <see langword="null"/>
    /// means blocks 0, 1, …, N_C − 1 (a truncated copy of the Pilot), wrapping around when the Copilot is deeper.</param>
    /// <returns>What was copied, one <c>"copilot name ← pilot name"</c> line per tensor, in copy order.</returns>
    /// <remarks>
    /// <para>Zou et al., arXiv 2505.16270, §3 and §5: the Copilot is initialised from the Pilot's decoder module where
    /// sizes allow. A decoder-only Pilot has no cross-attention, so only the self-attention and feed-forward sub-blocks
    /// have counterparts. Per Copilot layer <c>l</c> and Pilot block <c>b</c>: the self-attention query, key and value
    /// weights and biases are the three row blocks of <c>b</c>'s fused QKV projection (rows <c>[0, d)</c>, <c>[d, 2d)</c>,
    /// <c>[2d, 3d)</c>), the output projection is <c>b</c>'s, the feed-forward in/out projections are <c>b</c>'s MLP, and the
    /// two RMSNorm gains take <c>b</c>'s layer-norm weights (the layer-norm biases have no counterpart). The final RMSNorm
    /// gain takes the Pilot's final layer-norm weight. A tensor is copied only when its shape equals the source's (e.g.
    /// the Copilot width equals the Pilot width and the feed-forward widths agree); any other tensor is left as it is.
    /// A Copilot in <see cref="CopilotLayerLayout.Alternating"/> layout copies only into its self-attention layers.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="pilot"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="pilotLayers"/> does not have one entry per Copilot layer, or an
    /// entry is outside <c>[0, pilot.Layers)</c>.</exception>
    public IReadOnlyList<string> CopyFromPilot(Models.DecoderTransformer pilot, IReadOnlyList<int>? pilotLayers = null)
    {
        ArgumentNullException.ThrowIfNull(pilot);
        if (pilotLayers is not null && pilotLayers.Count != _layers.Count)
        {
            ThrowHelper.ThrowArgument(nameof(pilotLayers), $"has {pilotLayers.Count} entries but the Copilot has {_layers.Count} layers.");
        }

        var copied = new List<string>();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long d = Options.Width;
        for (int l = 0; l < _layers.Count; l++)
        {
            int b = pilotLayers?[l] ?? (l % pilot.Layers);
            if (b < 0 || b >= pilot.Layers)
            {
                ThrowHelper.ThrowArgument(nameof(pilotLayers), $"entry {l} is {b}, outside the Pilot's blocks [0, {pilot.Layers}).");
            }

            var source = pilot.BlockWeights(b);
            var layer = _layers[l];
            string to = $"layers.{l}", from = $"blocks.{b}";
            if (layer.SelfAttention is { } attention)
            {
                Copy(attention.Norm.Gain, source.AttentionNorm.weight!, $"{to}.self.norm.gain", $"{from}.attention_norm.weight");
                if (source.Qkv.weight!.shape[0] == 3 * d)
                {
                    Copy(attention.Query.weight!, source.Qkv.weight!.narrow(0, 0, d), $"{to}.self.query.weight", $"{from}.qkv.weight[0:d]");
                    Copy(attention.Key.weight!, source.Qkv.weight!.narrow(0, d, d), $"{to}.self.key.weight", $"{from}.qkv.weight[d:2d]");
                    Copy(attention.Value.weight!, source.Qkv.weight!.narrow(0, 2 * d, d), $"{to}.self.value.weight", $"{from}.qkv.weight[2d:3d]");
                    Copy(attention.Query.bias!, source.Qkv.bias!.narrow(0, 0, d), $"{to}.self.query.bias", $"{from}.qkv.bias[0:d]");
                    Copy(attention.Key.bias!, source.Qkv.bias!.narrow(0, d, d), $"{to}.self.key.bias", $"{from}.qkv.bias[d:2d]");
                    Copy(attention.Value.bias!, source.Qkv.bias!.narrow(0, 2 * d, d), $"{to}.self.value.bias", $"{from}.qkv.bias[2d:3d]");
                }

                Copy(attention.Projection.weight!, source.Output.weight!, $"{to}.self.projection.weight", $"{from}.output.weight");
                Copy(attention.Projection.bias!, source.Output.bias!, $"{to}.self.projection.bias", $"{from}.output.bias");
            }

            if (layer.SelfAttention is null)
            {
                continue;
            }

            Copy(layer.FeedForwardNorm.Gain, source.MlpNorm.weight!, $"{to}.ffn.norm.gain", $"{from}.mlp_norm.weight");
            Copy(layer.Up.weight!, source.Up.weight!, $"{to}.ffn.up.weight", $"{from}.mlp.up.weight");
            Copy(layer.Up.bias!, source.Up.bias!, $"{to}.ffn.up.bias", $"{from}.mlp.up.bias");
            Copy(layer.Down.weight!, source.Down.weight!, $"{to}.ffn.down.weight", $"{from}.mlp.down.weight");
            Copy(layer.Down.bias!, source.Down.bias!, $"{to}.ffn.down.bias", $"{from}.mlp.down.bias");
        }

        Copy(_norm.Gain, pilot.FinalNormWeight, "norm.gain", "final_norm.weight");
        return copied;

        void Copy(Tensor target, Tensor source, string targetName, string sourceName)
        {
            if (target.shape.AsSpan().SequenceEqual(source.shape))
            {
                target.copy_(source);
                copied.Add($"{targetName} ← {sourceName}");
            }
        }
    }

    /// <summary>Runs the Copilot on an already right-shifted input sequence.</summary>
    /// <param name="input">The inputs <c>u_1 … u_n</c>, <c>[B, n, V]</c> float32 (<c>u_1 = 0</c>, <c>u_i = ℓ_{i−1}</c> or <c>f^C_{i−1}</c>).</param>
    /// <param name="memory">The memory <c>[X̃ ; H̄]</c>, <c>[B, 2·S, d_P]</c> float32.</param>
    /// <param name="memoryMask">Which memory positions each query sees, <c>[B, n, 2·S]</c> bool (see <see cref="MemoryMask"/>).</param>
    /// <returns><c>f^C_1 … f^C_n</c>, <c>[B, n, V]</c>.</returns>
    public override Tensor forward(Tensor input, Tensor memory, Tensor memoryMask)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(memoryMask);
        if (input.Dimensions != 3 || input.shape[2] != Options.VocabSize)
        {
            ThrowHelper.ThrowArgument(nameof(input), $"must be [B, n, {Options.VocabSize}]; got [{string.Join(", ", input.shape)}].");
        }

        long batch = input.shape[0], length = input.shape[1];
        if (memory.Dimensions != 3 || memory.shape[0] != batch || memory.shape[2] != Options.PilotWidth)
        {
            ThrowHelper.ThrowArgument(nameof(memory), $"must be [{batch}, 2·S, {Options.PilotWidth}]; got [{string.Join(", ", memory.shape)}].");
        }

        if (memoryMask.dtype != ScalarType.Bool || memoryMask.Dimensions != 3 || memoryMask.shape[0] != batch || memoryMask.shape[1] != length || memoryMask.shape[2] != memory.shape[1])
        {
            ThrowHelper.ThrowArgument(nameof(memoryMask), $"must be bool [{batch}, {length}, {memory.shape[1]}]; got {memoryMask.dtype} [{string.Join(", ", memoryMask.shape)}].");
        }

        using var scope = NewDisposeScope();
        var device = input.device;
        var (cos, sin) = Rotary(length, Options.Width / Options.Heads, device);
        var causal = ones(length, length, ScalarType.Bool, device).tril().unsqueeze(0).unsqueeze(0);
        var crossMask = memoryMask.unsqueeze(1);
        Tensor x = _input.forward(input);
        foreach (var layer in _layers)
        {
            x = layer.Forward(x, memory, causal, crossMask, cos, sin, training);
        }

        return _output.forward(_norm.forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the Copilot teacher-forced on the true mistakes: the input is <c>[0, ℓ_1, …, ℓ_{n−1}]</c>.</summary>
    /// <param name="mistakes">The mistakes <c>ℓ_1 … ℓ_n</c>, <c>[B, n, V]</c>.</param>
    /// <param name="memory">The memory, <c>[B, 2·S, d_P]</c>.</param>
    /// <param name="memoryMask">The memory mask, <c>[B, n, 2·S]</c> bool.</param>
    /// <returns><c>f^C_1 … f^C_n</c>, <c>[B, n, V]</c>.</returns>
    public Tensor TeacherForced(Tensor mistakes, Tensor memory, Tensor memoryMask)
    {
        using var scope = NewDisposeScope();
        return forward(ShiftRight(mistakes), memory, memoryMask).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the Copilot teacher-forced on a batch drawn from a <see cref="MistakeLog"/>.</summary>
    /// <param name="batch">The batch.</param>
    /// <returns><c>f^C</c>, <c>[B, n_max, V]</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> is null.</exception>
    public Tensor TeacherForced(CopilotBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var device = _input.weight!.device;
        return TeacherForced(batch.Mistakes.to(device), batch.Memory.to(device), batch.MemoryMask().to(device)).MoveToOuterDisposeScope();
    }

    /// <summary>The right shift <c>[ℓ_1 … ℓ_n] → [0, ℓ_1 … ℓ_{n−1}]</c> along dimension 1.</summary>
    /// <param name="sequence"><c>[B, n, V]</c>.</param>
    /// <returns>A new tensor of the same shape.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sequence"/> is null.</exception>
    public static Tensor ShiftRight(Tensor sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        using var scope = NewDisposeScope();
        long length = sequence.shape[1];
        var zero = zeros(new long[] { sequence.shape[0], 1, sequence.shape[2] }, sequence.dtype, sequence.device);
        return cat(new[] { zero, sequence.narrow(1, 0, length - 1) }, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The memory mask of docs/algorithms/paper-methods.md#copilot-decoder: entry <c>[b, i−1, k−1]</c> and <c>[b, i−1, S + k−1]</c> are true exactly when
    /// <c>k ≤ min(m_b + i − 1, m_b + n_b − 1)</c>.
    /// </summary>
    /// <param name="promptLengths">m_b ≥ 1 per sequence.</param>
    /// <param name="targetLengths">n_b ≥ 1 per sequence (positions beyond n_b are padding queries).</param>
    /// <param name="queries">The padded number of query positions (usually <c>max n_b</c>); queries beyond <c>n_b</c> are padding.</param>
    /// <param name="memoryLength">S, the padded length of each memory half, at least <c>max(m_b + n_b − 1)</c>.</param>
    /// <param name="device">The device of the result; <see langword="null"/> means the CPU.</param>
    /// <returns><c>[B, queries, 2·S]</c> bool; every row has at least one true entry (k = 1).</returns>
    /// <exception cref="ArgumentException">The lists differ in length, a length is below 1, or a sequence does not fit in <paramref name="memoryLength"/>.</exception>
    public static Tensor MemoryMask(IReadOnlyList<int> promptLengths, IReadOnlyList<int> targetLengths, long queries, long memoryLength, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(promptLengths);
        ArgumentNullException.ThrowIfNull(targetLengths);
        if (promptLengths.Count != targetLengths.Count)
        {
            ThrowHelper.ThrowArgument(nameof(targetLengths), $"has {targetLengths.Count} values but there are {promptLengths.Count} prompt lengths.");
        }

        int batch = promptLengths.Count;
        var allowed = new bool[batch * queries * 2 * memoryLength];
        for (int b = 0; b < batch; b++)
        {
            int m = promptLengths[b], n = targetLengths[b];
            if (m < 1 || n < 1 || m + n - 1 > memoryLength)
            {
                ThrowHelper.ThrowArgument(nameof(promptLengths), $"row {b}: m = {m}, n = {n} must be at least 1 with m + n − 1 ≤ {memoryLength}.");
            }

            for (long i = 1; i <= queries; i++)
            {
                long visible = Math.Min(m + i - 1, m + n - 1);
                long offset = ((b * queries) + (i - 1)) * 2 * memoryLength;
                for (long k = 0; k < visible; k++)
                {
                    allowed[offset + k] = true;
                    allowed[offset + memoryLength + k] = true;
                }
            }
        }

        return tensor(allowed, new long[] { batch, queries, 2 * memoryLength }, device: device ?? CPU);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dropoutGenerator.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Initialize(long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        foreach (var (name, parameter) in named_parameters())
        {
            Tensor value = parameter.Dimensions >= 2
                ? randn(parameter.shape, ScalarType.Float32, CPU, generator: generator).Times(InitStd)
                : name.EndsWith("bias", StringComparison.Ordinal) ? zeros(parameter.shape) : ones(parameter.shape);
            parameter.copy_(value);
        }
    }

    /// <summary>cos and sin of the rotary angles, <c>[n, ⌊d_h/2⌋]</c> each.</summary>
    private static (Tensor Cos, Tensor Sin) Rotary(long length, int headWidth, Device device)
    {
        int half = headWidth / 2;
        if (half == 0)
        {
            return (ones(new long[] { length, 0 }, device: device), zeros(new long[] { length, 0 }, device: device));
        }

        // θ_j = 10000^(−2j / (2·half)), angle(i, j) = i·θ_j (RoFormer §3.4.2).
        // A 0-dim tensor base: pow(double, Tensor) converts the 10000 to a Scalar nothing holds.
        using var rotaryBase = tensor(10000.0, ScalarType.Float64);
        var frequencies = pow(rotaryBase, TorchScalars.Range(0, half, ScalarType.Float64).neg().Times(2.0).DividedBy(2.0 * half));
        var angles = TorchScalars.Range(0, length, ScalarType.Float64).unsqueeze(1) * frequencies.unsqueeze(0);
        return (angles.cos().to(ScalarType.Float32).to(device), angles.sin().to(ScalarType.Float32).to(device));
    }

    /// <summary>Applies the rotary embedding to <c>[B, H, n, d_h]</c>.</summary>
    private static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        long half = cos.shape[1];
        if (half == 0)
        {
            return x;
        }

        long headWidth = x.shape[3];
        var x1 = x.narrow(3, 0, half);
        var x2 = x.narrow(3, half, half);
        var rotated = new List<Tensor> { (x1 * cos) - (x2 * sin), (x1 * sin).Plus(x2 * cos) };
        if (headWidth > 2 * half)
        {
            rotated.Add(x.narrow(3, 2 * half, headWidth - (2 * half)));
        }

        return cat(rotated, 3);
    }

    /// <summary>RMSNorm: <c>x · g / sqrt(mean(x²) + ε)</c> (Zhang and Sennrich, arXiv 1910.07467).</summary>
    internal sealed class RmsNorm : Module<Tensor, Tensor>
    {
        private const double Epsilon = 1e-6;
        private readonly Parameter _gain;

        public Parameter Gain => _gain;

        public RmsNorm(int width)
            : base(nameof(RmsNorm))
        {
            _gain = new Parameter(ones(width));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var normalised = input * input.Squared().mean(new long[] { -1 }, keepdim: true).Plus(Epsilon).rsqrt();
            return (normalised * _gain).MoveToOuterDisposeScope();
        }
    }

    /// <summary>One pre-norm layer: causal self-attention and/or cross-attention to the memory, then a GELU FFN.</summary>
    internal sealed class CopilotLayer : Module
    {
        private readonly Attention? _self;
        private readonly Attention? _cross;
        private readonly RmsNorm _feedForwardNorm;
        private readonly Linear _up;
        private readonly Linear _down;
        private readonly double _dropout;
        private readonly Generator _dropoutGenerator;

        public CopilotLayer(CopilotOptions options, bool self, bool cross, Generator dropoutGenerator)
            : base(nameof(CopilotLayer))
        {
            _dropout = options.Dropout;
            _dropoutGenerator = dropoutGenerator;
            _self = self ? new Attention(options, cross: false) : null;
            _cross = cross ? new Attention(options, cross: true) : null;
            _feedForwardNorm = new RmsNorm(options.Width);
            _up = Linear(options.Width, options.FeedForwardWidth);
            _down = Linear(options.FeedForwardWidth, options.Width);
            RegisterComponents();
        }

        public Attention? SelfAttention => _self;

        public Attention? CrossAttention => _cross;

        public RmsNorm FeedForwardNorm => _feedForwardNorm;

        public Linear Up => _up;

        public Linear Down => _down;

        public Tensor Forward(Tensor x, Tensor memory, Tensor causal, Tensor crossMask, Tensor cos, Tensor sin, bool training)
        {
            using var scope = NewDisposeScope();
            if (_self is not null)
            {
                x = x.Plus(Dropout(_self.Forward(x, x, causal, cos, sin), training));
            }

            if (_cross is not null)
            {
                x = x.Plus(Dropout(_cross.Forward(x, memory, crossMask, cos, sin), training));
            }

            var hidden = functional.gelu(_up.forward(_feedForwardNorm.forward(x)));
            x = x.Plus(Dropout(_down.forward(hidden), training));
            return x.MoveToOuterDisposeScope();
        }

        private Tensor Dropout(Tensor x, bool training)
        {
            if (!training || _dropout == 0)
            {
                return x;
            }

            // Masks from the Copilot's own generator: the global torch stream (the Pilot's) is untouched.
            var keep = rand(x.shape, ScalarType.Float32, CPU, generator: _dropoutGenerator).AtOrAbove(_dropout).to(x.device);
            return (x * keep.to_type(x.dtype)).DividedBy(1 - _dropout);
        }
    }

    /// <summary>A pre-norm multi-head attention sub-block: <c>Proj(softmax(QKᵀ/√d_h + mask)·V)</c> of <c>RMSNorm(x)</c>;
    /// causal self-attention with rotary positions, or cross-attention to the memory (keys and values <c>d_P → d</c>).</summary>
    internal sealed class Attention : Module
    {
        private readonly RmsNorm _norm;
        private readonly Linear _query;
        private readonly Linear _key;
        private readonly Linear _value;
        private readonly Linear _projection;
        private readonly int _heads;

        public Attention(CopilotOptions options, bool cross)
            : base(nameof(Attention))
        {
            IsCross = cross;
            _heads = options.Heads;
            int keyWidth = cross ? options.PilotWidth : options.Width;
            _norm = new RmsNorm(options.Width);
            _query = Linear(options.Width, options.Width);
            _key = Linear(keyWidth, options.Width);
            _value = Linear(keyWidth, options.Width);
            _projection = Linear(options.Width, options.Width);
            RegisterComponents();
        }

        public bool IsCross { get; }

        public RmsNorm Norm => _norm;

        public Linear Query => _query;

        public Linear Key => _key;

        public Linear Value => _value;

        public Linear Projection => _projection;

        /// <summary>The attention output (before the residual); <paramref name="self"/> is the layer input.</summary>
        public Tensor Forward(Tensor self, Tensor memory, Tensor mask, Tensor cos, Tensor sin)
        {
            using var scope = NewDisposeScope();
            long b = self.shape[0], n = self.shape[1], d = self.shape[2];
            long dh = d / _heads;
            var normed = _norm.forward(self);
            var source = IsCross ? memory : normed;
            long s = source.shape[1];
            var q = _query.forward(normed).view(b, n, _heads, dh).transpose(1, 2);
            var k = _key.forward(source).view(b, s, _heads, dh).transpose(1, 2);
            var v = _value.forward(source).view(b, s, _heads, dh).transpose(1, 2);
            if (!IsCross)
            {
                q = Rotate(q, cos, sin);
                k = Rotate(k, cos, sin);
            }

            var attended = TransformerParts.Attend(q, k, v, mask.logical_not());
            return _projection.forward(attended).MoveToOuterDisposeScope();
        }
    }
}
