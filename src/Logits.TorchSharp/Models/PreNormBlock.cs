using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Models;

/// <summary>
/// The GPT-2 pre-norm transformer block: <c>h + Dropout(W_o · Attn(LN₁(h)))</c>, then
/// <c>h + Dropout(W_2 · GELU(W_1 · LN₂(h)))</c>, with causal attention (<see cref="DecoderTransformer"/>) or
/// bidirectional attention (the masked-token denoiser).
/// </summary>
internal sealed class PreNormBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm _attentionNorm;
    private readonly Linear _qkv;
    private readonly Linear _output;
    private readonly LayerNorm _mlpNorm;
    private readonly Linear _up;
    private readonly Linear _down;
    private readonly Dropout? _dropout;
    private readonly int _heads;
    private readonly bool _causal;

    /// <summary>Builds the block (TorchSharp's default initialisation; <see cref="Initialize"/> redraws it from a seed).</summary>
    /// <param name="width">d, the model width.</param>
    /// <param name="heads">The number of attention heads, dividing <paramref name="width"/>.</param>
    /// <param name="feedForwardWidth">The hidden width of the GELU MLP.</param>
    /// <param name="dropout">The dropout rate on each residual branch, or null for a block without dropout.</param>
    /// <param name="causal">Whether position k sees positions ≤ k only.</param>
    public PreNormBlock(int width, int heads, int feedForwardWidth, double? dropout, bool causal)
        : base(nameof(PreNormBlock))
    {
        _heads = heads;
        _causal = causal;
        _attentionNorm = LayerNorm(width);
        _qkv = Linear(width, 3 * width);
        _output = Linear(width, width);
        _mlpNorm = LayerNorm(width);
        _up = Linear(width, feedForwardWidth);
        _down = Linear(feedForwardWidth, width);
        _dropout = dropout is double rate ? Dropout(rate) : null;
        RegisterComponents();
    }

    public LayerNorm AttentionNorm => _attentionNorm;

    public Linear Qkv => _qkv;

    public Linear Output => _output;

    public LayerNorm MlpNorm => _mlpNorm;

    public Linear Up => _up;

    public Linear Down => _down;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0], t = input.shape[1], d = input.shape[2];
        Tensor[] qkv = _qkv.forward(_attentionNorm.forward(input)).view(b, t, 3, _heads, d / _heads).permute(2, 0, 3, 1, 4).unbind(0);
        Tensor? future = _causal ? TransformerParts.FutureMask(t, input.device) : null;
        Tensor mixed = TransformerParts.Attend(qkv[0], qkv[1], qkv[2], future);
        Tensor x = input.Plus(Residual(_output.forward(mixed)));
        x = x.Plus(Residual(_down.forward(functional.gelu(_up.forward(_mlpNorm.forward(x))))));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>GPT-2's scheme: weights <c>N(0, std²)</c>, the two residual output projections <c>N(0, residualStd²)</c>,
    /// biases 0, layer norms weight 1 and bias 0; drawn in the order QKV, output, MLP-in, MLP-out.</summary>
    public void Initialize(Generator generator, double std, double residualStd)
    {
        _qkv.weight!.normal_(0, std, generator);
        _output.weight!.normal_(0, residualStd, generator);
        _up.weight!.normal_(0, std, generator);
        _down.weight!.normal_(0, residualStd, generator);
        foreach (var linear in new[] { _qkv, _output, _up, _down })
        {
            linear.bias!.zero_();
        }

        foreach (var norm in new[] { _attentionNorm, _mlpNorm })
        {
            norm.weight!.fill_(TorchScalars.One);
            norm.bias!.zero_();
        }
    }

    private Tensor Residual(Tensor branch) => _dropout is null ? branch : _dropout.forward(branch);
}
