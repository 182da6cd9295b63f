using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Models;

/// <summary>
/// A small llama-architecture decoder (RMSNorm, rotary positions, SwiGLU feed-forward, no biases) whose weights are laid out
/// exactly as llama.cpp computes its <c>llama</c> architecture, so they can be written to a GGUF file under llama.cpp's
/// tensor names (<see cref="ExportTensors"/>) and give the same logits there. It maps token ids <c>[B, T]</c> to
/// next-token logits <c>[B, T, V]</c>.
/// </summary>
/// <remarks>
/// <para><b>Architecture</b> (Touvron et al., "LLaMA", arXiv 2302.13971): <c>h = E[x]</c>; per block
/// <c>h ← h + W_o · Attn(RMSNorm(h)·g₁)</c>, then <c>h ← h + W_down · (silu(W_gate·n) ⊙ W_up·n)</c> with
/// <c>n = RMSNorm(h)·g₂</c>; <c>logits = Head(RMSNorm(h)·g_f)</c>, the head being <c>Eᵀ</c> when tied.
/// <c>RMSNorm(x) = x / √(mean(x²) + ε)</c> (Zhang &amp; Sennrich, arXiv 1910.07467); SwiGLU after Shazeer, arXiv 2002.05202.
/// Attention is causal, <c>softmax(QKᵀ/√d_h + M)·V</c> per head, with no learned position embedding.</para>
/// <para><b>Rotary positions, llama.cpp's convention</b> (Su et al., RoFormer, arXiv 2104.09864). llama.cpp runs the
/// <c>llama</c> architecture with its "normal" rotary mode: within each head the dimensions <c>2i</c> and <c>2i + 1</c>
/// form a pair rotated by the angle <c>p · θ^(−2i/d_h)</c> at position <c>p</c> (the first token is at position 0):
/// <c>(x₂ᵢ, x₂ᵢ₊₁) ↦ (x₂ᵢ cos − x₂ᵢ₊₁ sin, x₂ᵢ sin + x₂ᵢ₊₁ cos)</c>. Hugging Face's Llama pairs dimension <c>i</c> with
/// <c>i + d_h/2</c> instead, which is why llama.cpp's converter permutes the rows of <c>W_q</c> and <c>W_k</c>; this
/// module computes the adjacent-pair form directly, so its weights are exported as they are, with no permutation.</para>
/// <para><b>Seeded initialisation</b>: every weight from a <c>torch.Generator</c> seeded with the given seed, in a fixed
/// order: <c>N(0, 0.02²)</c>, the two residual output projections <c>N(0, (0.02/√(2·Layers))²)</c>, norm gains 1.</para>
/// <para>The module is built on the CPU in training mode; move it with <c>model.to(device)</c>.</para>
/// </remarks>
public sealed class LlamaDecoder : Module<Tensor, Tensor>
{
    private const double InitStd = 0.02;

    private readonly Embedding _tokens;
    private readonly ModuleList<Block> _blocks;
    private readonly Parameter _norm;
    private readonly Linear? _head;
    private readonly float[] _cos;
    private readonly float[] _sin;

    private LlamaDecoder(LlamaDecoderOptions options)
        : base(nameof(LlamaDecoder))
    {
        Options = options;
        _tokens = Embedding(options.VocabSize, options.Width);
        _blocks = new ModuleList<Block>();
        for (int i = 0; i < options.Layers; i++)
        {
            _blocks.Add(new Block(options));
        }

        _norm = new Parameter(ones(options.Width));
        _head = options.TiedOutputHead ? null : Linear(options.Width, options.VocabSize, hasBias: false);
        (_cos, _sin) = RotaryTables(options);
        RegisterComponents();
    }

    /// <summary>The options the model was built with.</summary>
    public LlamaDecoderOptions Options { get; }

    /// <summary>The vocabulary size V.</summary>
    public int VocabSize => Options.VocabSize;

    /// <summary>The longest sequence the model accepts.</summary>
    public int MaxSequenceLength => Options.MaxSequenceLength;

    /// <summary>The number of trainable scalars (a tied head shares the token embedding and is counted once).</summary>
    public long ParameterCount => TransformerParts.ParameterCount(this);

    /// <summary>Builds a model with weights drawn from <paramref name="seed"/> (see the remarks).</summary>
    /// <param name="options">The sizes.</param>
    /// <param name="seed">Seeds the private generator that draws every parameter.</param>
    /// <returns>A new module on the CPU, in training mode.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The width does not split into heads of an even size.</exception>
    public static LlamaDecoder Create(LlamaDecoderOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var model = new LlamaDecoder(options);
        model.Initialize(seed);
        model.train();
        return model;
    }

    /// <summary>Next-token logits for every position.</summary>
    /// <param name="input">Token ids <c>[B, T]</c>, int64, <c>B ≥ 1</c>, <c>1 ≤ T ≤ MaxSequenceLength</c>; position 0 is the
    /// first token (as llama.cpp numbers a sequence). Padding goes at the end of a row (attention is causal).</param>
    /// <returns>Logits <c>[B, T, V]</c>; position k predicts token k + 1. The caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not a non-empty 2-D int64 tensor of at most
    /// <see cref="MaxSequenceLength"/> columns.</exception>
    public override Tensor forward(Tensor input)
    {
        ValidateTokens(input);
        using var scope = NewDisposeScope();
        long t = input.shape[1];
        int pairs = Options.HeadSize / 2;
        var shape = new long[] { t, pairs };
        Tensor cos = tensor(_cos.AsSpan(0, (int)t * pairs).ToArray(), shape, device: input.device);
        Tensor sin = tensor(_sin.AsSpan(0, (int)t * pairs).ToArray(), shape, device: input.device);
        Tensor h = _tokens.forward(input);
        foreach (var block in _blocks)
        {
            h = block.Forward(h, cos, sin);
        }

        Tensor normed = RmsNorm(h, _norm, Options.RmsNormEpsilon);
        Tensor logits = _head is null ? matmul(normed, _tokens.weight!.t()) : _head.forward(normed);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The weights under llama.cpp's tensor names, each copied to a row-major float array in PyTorch's <c>[out, in]</c>
    /// layout (which a GGUF writer stores with the reversed ggml shape over the same bytes).
    /// </summary>
    /// <returns>
    /// <c>token_embd.weight</c> <c>[V, d]</c>; per block <c>N</c>: <c>blk.N.attn_norm.weight</c> <c>[d]</c>,
    /// <c>blk.N.attn_q.weight</c>, <c>blk.N.attn_k.weight</c>, <c>blk.N.attn_v.weight</c>, <c>blk.N.attn_output.weight</c>
    /// <c>[d, d]</c>, <c>blk.N.ffn_norm.weight</c> <c>[d]</c>, <c>blk.N.ffn_gate.weight</c>, <c>blk.N.ffn_up.weight</c>
    /// <c>[ff, d]</c>, <c>blk.N.ffn_down.weight</c> <c>[d, ff]</c>; <c>output_norm.weight</c> <c>[d]</c>; and
    /// <c>output.weight</c> <c>[V, d]</c> only when the head is not tied. Query and key rows need no permutation (see remarks).
    /// </returns>
    public IReadOnlyDictionary<string, float[]> ExportTensors()
    {
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal)
        {
            ["token_embd.weight"] = ToHost(_tokens.weight!),
        };
        for (int i = 0; i < _blocks.Count; i++)
        {
            _blocks[i].Export($"blk.{i}.", tensors);
        }

        tensors["output_norm.weight"] = ToHost(_norm);
        if (_head is not null)
        {
            tensors["output.weight"] = ToHost(_head.weight!);
        }

        return tensors;
    }

    private static float[] ToHost(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return tensor.detach().to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    /// <summary><c>x / √(mean(x²) + ε) · g</c> over the last dimension.</summary>
    private static Tensor RmsNorm(Tensor x, Tensor gain, double epsilon)
    {
        using var scope = NewDisposeScope();
        Tensor meanSquare = x.Squared().mean(new long[] { -1 }, keepdim: true);
        return x.mul(meanSquare.Plus(epsilon).rsqrt()).mul(gain).MoveToOuterDisposeScope();
    }

    /// <summary>cos and sin of <c>p · θ^(−2i/d_h)</c>, row-major <c>[MaxSequenceLength, d_h/2]</c>, computed in double precision
    /// (host arrays, so the tables are neither parameters nor checkpoint entries).</summary>
    private static (float[] Cos, float[] Sin) RotaryTables(LlamaDecoderOptions options)
    {
        int pairs = options.HeadSize / 2;
        int length = options.MaxSequenceLength;
        var cos = new float[length * pairs];
        var sin = new float[length * pairs];
        for (int p = 0; p < length; p++)
        {
            for (int i = 0; i < pairs; i++)
            {
                double angle = p * Math.Pow(options.RopeFrequencyBase, -2.0 * i / options.HeadSize);
                cos[(p * pairs) + i] = (float)Math.Cos(angle);
                sin[(p * pairs) + i] = (float)Math.Sin(angle);
            }
        }

        return (cos, sin);
    }

    /// <summary>Rotates adjacent pairs of the last dimension of <c>x [B, H, T, d_h]</c> by the position's angles.</summary>
    private static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], heads = x.shape[1], t = x.shape[2], dh = x.shape[3];
        Tensor pairs = x.reshape(b, heads, t, dh / 2, 2);
        Tensor even = pairs.select(-1, 0);
        Tensor odd = pairs.select(-1, 1);
        Tensor rotatedEven = even.mul(cos).sub(odd.mul(sin));
        Tensor rotatedOdd = even.mul(sin).Plus(odd.mul(cos));
        return stack(new[] { rotatedEven, rotatedOdd }, -1).reshape(b, heads, t, dh).MoveToOuterDisposeScope();
    }

    private void ValidateTokens(Tensor tokens) => TransformerParts.ValidateTokens(tokens, MaxSequenceLength);

    private void Initialize(ulong seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(seed);
        double residualStd = InitStd / Math.Sqrt(2.0 * Options.Layers);
        _tokens.weight!.normal_(0, InitStd, generator);
        foreach (var block in _blocks)
        {
            block.Initialize(generator, InitStd, residualStd);
        }

        _head?.weight!.normal_(0, InitStd, generator);
    }

    /// <summary>Pre-norm llama block: rotary causal attention, then SwiGLU, each with a residual connection.</summary>
    private sealed class Block : Module
    {
        private readonly Parameter _attentionNorm;
        private readonly Linear _query;
        private readonly Linear _key;
        private readonly Linear _value;
        private readonly Linear _output;
        private readonly Parameter _feedForwardNorm;
        private readonly Linear _gate;
        private readonly Linear _up;
        private readonly Linear _down;
        private readonly int _heads;
        private readonly double _epsilon;

        public Block(LlamaDecoderOptions options)
            : base(nameof(Block))
        {
            int d = options.Width;
            int ff = options.FeedForwardWidth;
            _heads = options.Heads;
            _epsilon = options.RmsNormEpsilon;
            _attentionNorm = new Parameter(ones(d));
            _query = Linear(d, d, hasBias: false);
            _key = Linear(d, d, hasBias: false);
            _value = Linear(d, d, hasBias: false);
            _output = Linear(d, d, hasBias: false);
            _feedForwardNorm = new Parameter(ones(d));
            _gate = Linear(d, ff, hasBias: false);
            _up = Linear(d, ff, hasBias: false);
            _down = Linear(ff, d, hasBias: false);
            RegisterComponents();
        }

        public Tensor Forward(Tensor input, Tensor cos, Tensor sin)
        {
            using var scope = NewDisposeScope();
            long b = input.shape[0], t = input.shape[1], d = input.shape[2];
            long dh = d / _heads;
            Tensor n = RmsNorm(input, _attentionNorm, _epsilon);
            Tensor q = Rotate(_query.forward(n).view(b, t, _heads, dh).transpose(1, 2), cos, sin);
            Tensor k = Rotate(_key.forward(n).view(b, t, _heads, dh).transpose(1, 2), cos, sin);
            Tensor v = _value.forward(n).view(b, t, _heads, dh).transpose(1, 2);
            Tensor mixed = TransformerParts.Attend(q, k, v, TransformerParts.FutureMask(t, input.device));
            Tensor x = input.Plus(_output.forward(mixed));
            Tensor m = RmsNorm(x, _feedForwardNorm, _epsilon);
            x = x.Plus(_down.forward(functional.silu(_gate.forward(m)).mul(_up.forward(m))));
            return x.MoveToOuterDisposeScope();
        }

        public void Initialize(Generator generator, double std, double residualStd)
        {
            _query.weight!.normal_(0, std, generator);
            _key.weight!.normal_(0, std, generator);
            _value.weight!.normal_(0, std, generator);
            _output.weight!.normal_(0, residualStd, generator);
            _gate.weight!.normal_(0, std, generator);
            _up.weight!.normal_(0, std, generator);
            _down.weight!.normal_(0, residualStd, generator);
        }

        public void Export(string prefix, Dictionary<string, float[]> tensors)
        {
            tensors[prefix + "attn_norm.weight"] = ToHost(_attentionNorm);
            tensors[prefix + "attn_q.weight"] = ToHost(_query.weight!);
            tensors[prefix + "attn_k.weight"] = ToHost(_key.weight!);
            tensors[prefix + "attn_v.weight"] = ToHost(_value.weight!);
            tensors[prefix + "attn_output.weight"] = ToHost(_output.weight!);
            tensors[prefix + "ffn_norm.weight"] = ToHost(_feedForwardNorm);
            tensors[prefix + "ffn_gate.weight"] = ToHost(_gate.weight!);
            tensors[prefix + "ffn_up.weight"] = ToHost(_up.weight!);
            tensors[prefix + "ffn_down.weight"] = ToHost(_down.weight!);
        }
    }
}
