using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Models;

/// <summary>
/// A small decoder-only (GPT-style) transformer: token and learned position embeddings, pre-norm blocks of causal
/// multi-head self-attention and a GELU MLP, a final layer norm and an output head tied to the token embedding or its own.
/// It maps token ids <c>[B, T]</c> to next-token logits <c>[B, T, V]</c> and serves as Transformer Copilot's Pilot.
/// </summary>
/// <remarks>
/// <para><b>Architecture</b> (Radford et al., "Language Models are Unsupervised Multitask Learners", 2019, the GPT-2
/// layout; Vaswani et al., arXiv 1706.03762, for attention):
/// <c>e = Dropout(E[x_k] + P[k])</c>; for each block <c>h ← h + Dropout(W_o · Attn(LN₁(h)))</c>, then
/// <c>h ← h + Dropout(W_2 · GELU(W_1 · LN₂(h)))</c>; <c>logits = Head(LN_f(h))</c>. Attention is
/// <c>softmax(QKᵀ/√d_h + M)·V</c> per head with <c>M[k, j] = −∞</c> for <c>j &gt; k</c>, so position k sees positions ≤ k
/// only. There is no dropout inside the attention weights. The head is <c>h · Eᵀ</c> (no bias) when
/// <see cref="DecoderTransformerOptions.TiedOutputHead"/> is set, else a <c>Linear(d → V)</c> with bias.</para>
/// <para><b>Padding.</b> Because attention is causal, the outputs at positions <c>0…n−1</c> of a row do not depend on
/// tokens at positions ≥ n. A batch of sequences of different lengths can therefore be right-padded with any valid id
/// and needs no attention mask: the outputs at real positions are exactly those of the unpadded row (up to float
/// summation order); the outputs at padded positions are meaningless and the caller ignores them.</para>
/// <para><b>Outputs for the Copilot</b> (<see cref="IPilotModel"/>): the embedding output <c>e</c> (token plus position,
/// after dropout) and the output of every block, before the final norm.</para>
/// <para><b>Seeded initialisation.</b> <see cref="Create"/> draws every parameter from a <c>torch.Generator</c> seeded
/// with the given seed, in a fixed order (token embedding, position embedding, then per block the QKV, output, MLP-in
/// and MLP-out weights, then the untied head), with GPT-2's scheme: weights and embeddings <c>N(0, 0.02²)</c>, the two
/// residual output projections <c>N(0, (0.02/√(2·Layers))²)</c>, biases 0, layer norms weight 1 and bias 0. The same
/// options and seed therefore give bit-identical weights whatever the global torch seed; TorchSharp's default
/// initialisers still run first (and advance the global generator), but every value they write is overwritten.
/// Dropout in training mode draws from the global generator, which the trainer seeds.</para>
/// <para>The module is built on the CPU in training mode; move it with <c>model.to(device)</c>.</para>
/// </remarks>
public sealed class DecoderTransformer : Module<Tensor, Tensor>, IPilotModel
{
    private const double InitStd = 0.02;

    private readonly Embedding _tokens;
    private readonly Embedding _positions;
    private readonly Dropout _dropout;
    private readonly ModuleList<PreNormBlock> _blocks;
    private readonly LayerNorm _norm;
    private readonly Linear? _head;

    private DecoderTransformer(DecoderTransformerOptions options)
        : base(nameof(DecoderTransformer))
    {
        Options = options;
        _tokens = Embedding(options.VocabSize, options.Width);
        _positions = Embedding(options.MaxSequenceLength, options.Width);
        _dropout = Dropout(options.Dropout);
        _blocks = new ModuleList<PreNormBlock>();
        for (int i = 0; i < options.Layers; i++)
        {
            _blocks.Add(new PreNormBlock(options.Width, options.Heads, options.FeedForwardWidth, options.Dropout, causal: true));
        }

        _norm = LayerNorm(options.Width);
        _head = options.TiedOutputHead ? null : Linear(options.Width, options.VocabSize);
        RegisterComponents();
    }

    /// <summary>The options the model was built with.</summary>
    public DecoderTransformerOptions Options { get; }

    /// <inheritdoc />
    public int VocabSize => Options.VocabSize;

    /// <inheritdoc />
    public int Width => Options.Width;

    /// <inheritdoc />
    public int Layers => Options.Layers;

    /// <inheritdoc />
    public int MaxSequenceLength => Options.MaxSequenceLength;

    /// <summary>The number of trainable scalars (a tied head shares the token embedding and is counted once).</summary>
    public long ParameterCount => TransformerParts.ParameterCount(this);

    /// <summary>The token embedding matrix <c>E</c>, <c>[V, d]</c> (also the output head's weight when tied).</summary>
    public Tensor TokenEmbeddingWeight => _tokens.weight!;

    /// <summary>The output head's weight <c>[V, d]</c>: the token embedding matrix itself when the head is tied.</summary>
    public Tensor OutputHeadWeight => _head is null ? _tokens.weight! : _head.weight!;

    /// <summary>The final layer norm's weight <c>[d]</c>.</summary>
    internal Tensor FinalNormWeight => _norm.weight!;

    /// <summary>The modules of block <paramref name="index"/> (for copying into a Copilot).</summary>
    internal (LayerNorm AttentionNorm, Linear Qkv, Linear Output, LayerNorm MlpNorm, Linear Up, Linear Down) BlockWeights(int index)
    {
        var block = _blocks[index];
        return (block.AttentionNorm, block.Qkv, block.Output, block.MlpNorm, block.Up, block.Down);
    }

    /// <summary>Builds a model with weights drawn from <paramref name="seed"/> (see the remarks of <see cref="DecoderTransformer"/>).</summary>
    /// <param name="options">The sizes.</param>
    /// <param name="seed">Seeds the private generator that draws every parameter; the same seed gives identical weights.</param>
    /// <returns>A new module on the CPU, in training mode.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="DecoderTransformerOptions.Width"/> is not divisible by
    /// <see cref="DecoderTransformerOptions.Heads"/>.</exception>
    public static DecoderTransformer Create(DecoderTransformerOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var model = new DecoderTransformer(options);
        model.Initialize(seed);
        model.train();
        return model;
    }

    /// <summary>Next-token logits for every position.</summary>
    /// <param name="input">Token ids <c>[B, T]</c>, int64, <c>B ≥ 1</c>, <c>1 ≤ T ≤ MaxSequenceLength</c>, each in <c>[0, V)</c>
    /// (an id outside is reported by TorchSharp's embedding lookup). Padding goes at the end of a row (see remarks).</param>
    /// <returns>Logits <c>[B, T, V]</c>; position k predicts token k + 1. The caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not a non-empty 2-D int64 tensor of at most
    /// <see cref="MaxSequenceLength"/> columns.</exception>
    public override Tensor forward(Tensor input)
    {
        ValidateTokens(input);
        using var scope = NewDisposeScope();
        Tensor h = Embed(input);
        foreach (var block in _blocks)
        {
            h = block.forward(h);
        }

        return Head(_norm.forward(h)).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the model and returns the logits, the embedding output and every block's output (the Pilot contract).</summary>
    /// <param name="tokens">Token ids <c>[B, T]</c>, as for <see cref="forward"/>.</param>
    /// <returns>The logits <c>[B, T, V]</c>, the embedding output <c>[B, T, d]</c> (after dropout) and one <c>[B, T, d]</c>
    /// block output per layer; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tokens"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> has the wrong shape or type.</exception>
    PilotOutput IPilotModel.Forward(Tensor tokens)
    {
        ValidateTokens(tokens);
        using var scope = NewDisposeScope();
        Tensor embeddings = Embed(tokens);
        var states = new Tensor[_blocks.Count];
        Tensor h = embeddings;
        for (int i = 0; i < _blocks.Count; i++)
        {
            h = _blocks[i].forward(h);
            states[i] = h;
        }

        Tensor logits = Head(_norm.forward(h));
        logits.MoveToOuterDisposeScope();
        embeddings.MoveToOuterDisposeScope();
        foreach (var state in states)
        {
            state.MoveToOuterDisposeScope();
        }

        return new PilotOutput(logits, embeddings, states);
    }

    /// <summary>Logits <c>[B, V]</c> at one position per row: <c>positions[b]</c> of row b (the language model's path, which
    /// applies the final norm and head to those rows only).</summary>
    internal Tensor LogitsAt(Tensor tokens, Tensor positions)
    {
        ValidateTokens(tokens);
        using var scope = NewDisposeScope();
        Tensor h = Embed(tokens);
        foreach (var block in _blocks)
        {
            h = block.forward(h);
        }

        Tensor rows = TorchScalars.Range(0, tokens.shape[0], ScalarType.Int64, tokens.device);
        Tensor last = h.index(new TensorIndex[] { TensorIndex.Tensor(rows), TensorIndex.Tensor(positions) });
        return Head(_norm.forward(last)).MoveToOuterDisposeScope();
    }

    private Tensor Embed(Tensor tokens)
    {
        Tensor positions = TorchScalars.Range(0, tokens.shape[1], ScalarType.Int64, tokens.device);
        return _dropout.forward(_tokens.forward(tokens).Plus(_positions.forward(positions)));
    }

    private Tensor Head(Tensor normed) =>
        _head is null ? matmul(normed, _tokens.weight!.t()) : _head.forward(normed);

    private void ValidateTokens(Tensor tokens) => TransformerParts.ValidateTokens(tokens, MaxSequenceLength);

    private void Initialize(ulong seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(seed);
        double residualStd = InitStd / Math.Sqrt(2.0 * Options.Layers);
        _tokens.weight!.normal_(0, InitStd, generator);
        _positions.weight!.normal_(0, InitStd, generator);
        foreach (var block in _blocks)
        {
            block.Initialize(generator, InitStd, residualStd);
        }

        if (_head is not null)
        {
            _head.weight!.normal_(0, InitStd, generator);
            _head.bias!.zero_();
        }

        _norm.weight!.fill_(TorchScalars.One);
        _norm.bias!.zero_();
    }
}
