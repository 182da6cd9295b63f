using Logits.TorchSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Diffusion;

/// <summary>
/// A small time-independent masked-token transformer: RADD's denoiser <c>c_θ(y | x)</c>. It maps token ids
/// <c>[B, L]</c> (real tokens <c>0…V−1</c> and the mask <c>V</c>) to log-probabilities <c>[B, L, V]</c> over the real tokens.
/// </summary>
/// <remarks>
/// <para>
/// Token embedding (V + 1 rows) plus a learned position embedding, <c>layers</c> pre-norm bidirectional transformer blocks
/// (multi-head self-attention and a GELU MLP of width 4d, residual), a final layer norm and a linear map to V logits,
/// then log-softmax. There is no time input: RADD shows the clean-data conditional does not depend on time
/// (Ou et al., arXiv 2406.03736, §3), which is what lets the sampler cache its output. Build with <see cref="Create"/>.
/// </para>
/// </remarks>
public sealed class MaskedTokenTransformer : Module<Tensor, Tensor>
{
    private readonly Embedding _tokens;
    private readonly Embedding _positions;
    private readonly ModuleList<Module<Tensor, Tensor>> _blocks;
    private readonly LayerNorm _norm;
    private readonly Linear _head;

    private MaskedTokenTransformer(int vocabulary, int length, int width, int heads, int layers)
        : base(nameof(MaskedTokenTransformer))
    {
        Vocabulary = vocabulary;
        Length = length;
        _tokens = Embedding(vocabulary + 1, width);
        _positions = Embedding(length, width);
        _blocks = new ModuleList<Module<Tensor, Tensor>>();
        for (int i = 0; i < layers; i++)
        {
            _blocks.Add(new PreNormBlock(width, heads, 4 * width, dropout: null, causal: false));
        }

        _norm = LayerNorm(width);
        _head = Linear(width, vocabulary);
        RegisterComponents();
    }

    /// <summary>V, the number of real tokens; the mask id is V.</summary>
    public int Vocabulary { get; }

    /// <summary>The maximum sequence length L.</summary>
    public int Length { get; }

    /// <summary>The mask id, <see cref="Vocabulary"/>.</summary>
    public int MaskId => Vocabulary;

    /// <summary>Builds the model.</summary>
    /// <param name="vocabulary">V ≥ 1 real tokens.</param>
    /// <param name="length">L ≥ 1, the maximum sequence length.</param>
    /// <param name="width">d ≥ 1, divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads, at least 1.</param>
    /// <param name="layers">Transformer blocks, at least 1.</param>
    /// <returns>A new module in training mode.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="width"/> is not divisible by <paramref name="heads"/>.</exception>
    public static MaskedTokenTransformer Create(int vocabulary, int length, int width = 64, int heads = 4, int layers = 2)
    {
        TorchRuntime.EnsureLoaded();
        Require.AtLeast(vocabulary, 1, nameof(vocabulary));
        Require.AtLeast(length, 1, nameof(length));
        Require.AtLeast(width, 1, nameof(width));
        Require.AtLeast(heads, 1, nameof(heads));
        Require.AtLeast(layers, 1, nameof(layers));
        if (width % heads != 0)
        {
            ThrowHelper.ThrowArgument(nameof(width), $"must be divisible by heads {heads}; got {width}.");
        }

        var model = new MaskedTokenTransformer(vocabulary, length, width, heads, layers);
        model.train();
        return model;
    }

    /// <summary>Log-probabilities over the real tokens for every position.</summary>
    /// <param name="input">Token ids <c>[B, L′]</c> (int64), <c>L′ ≤ L</c>.</param>
    /// <returns><c>[B, L′, V]</c> log-probabilities.</returns>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        long length = input.shape[1];
        Tensor h = _tokens.forward(input).Plus(_positions.forward(TorchScalars.Range(0, length, device: input.device)));
        foreach (var block in _blocks)
        {
            h = block.forward(h);
        }

        return functional.log_softmax(_head.forward(_norm.forward(h)), -1).MoveToOuterDisposeScope();
    }
}
