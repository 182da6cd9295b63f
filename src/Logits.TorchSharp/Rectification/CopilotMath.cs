
namespace Logits.TorchSharp.Rectification;

/// <summary>
/// Transformer Copilot's training-side tensor math: the mistake vectors <c>ℓ = onehot(y) − softmax(z)</c>, the
/// layer-pooled Pilot hidden states and the Copilot loss.
/// </summary>
/// <remarks>
/// Zou, Ban, Li, Qi, Qiu, Yang, He, <i>Transformer Copilot: Learning from The Mistake Log in LLM Fine-tuning</i>,
/// arXiv 2505.16270 (NeurIPS 2025), Algorithm 1 and Eq. 7; official code <c>jiaruzouu/TransformerCopilot</c>.
///
/// </remarks>
public static class CopilotMath
{
    /// <summary>The mistake vectors <c>ℓ_i = onehot(y_i) − softmax(z_i)</c> in float32, without autograd history.</summary>
    /// <param name="logits">The Pilot logits <c>z</c> that predict each target, <c>[B, n, V]</c>, any floating type.</param>
    /// <param name="targets">The target ids <c>y</c>, <c>[B, n]</c> int64; ignored (any value) where <paramref name="mask"/> is false.</param>
    /// <param name="mask">Which targets are valid, <c>[B, n]</c> bool.</param>
    /// <returns>
    /// <c>ℓ</c>, <c>[B, n, V]</c> float32 on the logits' device; rows where <paramref name="mask"/> is false are zero
    /// (such positions have no mistake vector). The caller disposes it.
    /// </returns>
    /// <remarks>
    /// Computed under <c>no_grad</c> as <c>onehot − exp(log_softmax(float32(z)))</c> (max-shifted), so it is
    /// correct for logits far above 88.7 and for bfloat16/float16 Pilots. By construction <c>Σ_v ℓ[v] = 0</c> up to
    /// rounding, <c>ℓ[y] ∈ [0, 1]</c> and every other entry lies in <c>[−1, 0]</c>; no clamping is applied.
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The shapes or types disagree, or a valid target lies outside <c>[0, V)</c>.</exception>
    public static Tensor MistakeVectors(Tensor logits, Tensor targets, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(mask);
        if (logits.Dimensions != 3)
        {
            ThrowHelper.ThrowArgument(nameof(logits), $"has {logits.Dimensions} dimensions but [B, n, V] is required.");
        }

        long batch = logits.shape[0], length = logits.shape[1], vocab = logits.shape[2];
        if (targets.dtype != ScalarType.Int64 || targets.Dimensions != 2 || targets.shape[0] != batch || targets.shape[1] != length)
        {
            ThrowHelper.ThrowArgument(nameof(targets), $"must be int64 [{batch}, {length}]; got {targets.dtype} [{string.Join(", ", targets.shape)}].");
        }

        if (mask.dtype != ScalarType.Bool || mask.Dimensions != 2 || mask.shape[0] != batch || mask.shape[1] != length)
        {
            ThrowHelper.ThrowArgument(nameof(mask), $"must be bool [{batch}, {length}]; got {mask.dtype} [{string.Join(", ", mask.shape)}].");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = logits.device;
        var validMask = mask.to(device);
        var safeTargets = where(validMask, targets.to(device), zeros_like(targets, device: device));
        if (batch * length > 0)
        {
            long low = safeTargets.min().item<long>();
            long high = safeTargets.max().item<long>();
            if (low < 0 || high >= vocab)
            {
                ThrowHelper.ThrowArgument(nameof(targets), $"holds a valid target outside [0, {vocab}) (range [{low}, {high}]).");
            }
        }

        // p̂ = exp(logsoftmax(z)) in float32: never exponentiate raw logits.
        var probabilities = nn.functional.log_softmax(logits.detach().to_type(ScalarType.Float32), -1).exp_();
        var oneHot = nn.functional.one_hot(safeTargets, vocab).to_type(ScalarType.Float32);
        var mistakes = oneHot.sub_(probabilities).mul_(validMask.unsqueeze(-1).to_type(ScalarType.Float32));
        return mistakes.MoveToOuterDisposeScope();
    }

    /// <summary>The hidden states mean-pooled over layers, <c>h̄_k = (1/L_P) Σ_l h_{k,l}</c>, in float32.</summary>
    /// <param name="layerStates">Every Pilot layer's output, each of the same shape (e.g. <c>[B, T, d_P]</c>).</param>
    /// <returns>The float32 mean, of the same shape; it carries autograd history when the inputs do and gradients are
    /// enabled (the trainer calls it under <c>no_grad</c>). The caller disposes it.</returns>
    /// <remarks>Pooled in float32 before any storage conversion; the embedding output is not a layer and goes
    /// separately into the Mistake Log.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="layerStates"/> or an element is null.</exception>
    /// <exception cref="ArgumentException">The list is empty or the shapes differ.</exception>
    public static Tensor PoolHiddenStates(IReadOnlyList<Tensor> layerStates)
    {
        ArgumentNullException.ThrowIfNull(layerStates);
        if (layerStates.Count == 0)
        {
            ThrowHelper.ThrowArgument(nameof(layerStates), "must hold at least one layer.");
        }

        using var scope = NewDisposeScope();
        var first = layerStates[0] ?? throw new ArgumentNullException(nameof(layerStates));
        Tensor sum = first.to_type(ScalarType.Float32);
        for (int l = 1; l < layerStates.Count; l++)
        {
            var state = layerStates[l] ?? throw new ArgumentNullException(nameof(layerStates));
            if (!Same(state.shape, first.shape))
            {
                ThrowHelper.ThrowArgument(nameof(layerStates), $"layer {l} has shape [{string.Join(", ", state.shape)}] but layer 0 has [{string.Join(", ", first.shape)}].");
            }

            sum = sum.Plus(state.to_type(ScalarType.Float32));
        }

        return sum.DividedBy(layerStates.Count).MoveToOuterDisposeScope();
    }

    /// <summary>The Copilot loss <c>L^C</c> (paper Eq. 7) between the Copilot output and the mistake vectors on the valid positions.</summary>
    /// <param name="prediction">The Copilot output <c>f^C</c>, <c>[B, n, V]</c> float32 (with autograd history in training).</param>
    /// <param name="target">The mistake vectors <c>ℓ</c>, <c>[B, n, V]</c>.</param>
    /// <param name="mask">Valid positions, <c>[B, n]</c> bool.</param>
    /// <param name="reduction">The reduction (default <see cref="CopilotLossReduction.RootSumSquare"/>, the paper's Eq. 7).</param>
    /// <returns>A scalar float32 tensor the caller disposes.</returns>
    /// <remarks>
    /// <para>With <c>S_b = Σ_{i valid in b} Σ_v (f^C_{b,i}[v] − ℓ_{b,i}[v])²</c> and <c>N_valid</c> the number of valid
    /// positions in the batch: <see cref="CopilotLossReduction.RootMeanSquare"/> gives
    /// <c>sqrt(Σ_b S_b / (N_valid · V))</c>; <see cref="CopilotLossReduction.RootSumSquare"/> gives <c>mean_b sqrt(S_b)</c>
    /// over the sequences with a valid position.</para>
    /// <para>Safe square root: <c>d sqrt(S)/dS</c> is infinite at 0 and autograd would give <c>0·∞ = NaN</c>, so the
    /// root is taken of <c>where(S &gt; 0, S, 1)</c> and 0 is selected where <c>S = 0</c>: a zero error gives loss 0 and a
    /// gradient of exactly 0. Masked positions get a gradient of exactly 0 whatever their values. A batch without any
    /// valid position gives 0 with a zero gradient.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduction"/> is undefined.</exception>
    public static Tensor CopilotLoss(Tensor prediction, Tensor target, Tensor mask, CopilotLossReduction reduction = CopilotLossReduction.RootSumSquare)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(mask);
        Require.Defined(reduction, nameof(reduction));

        if (prediction.Dimensions != 3)
        {
            ThrowHelper.ThrowArgument(nameof(prediction), $"has {prediction.Dimensions} dimensions but [B, n, V] is required.");
        }

        if (!Same(target.shape, prediction.shape))
        {
            ThrowHelper.ThrowArgument(nameof(target), $"has shape [{string.Join(", ", target.shape)}] but the prediction has [{string.Join(", ", prediction.shape)}].");
        }

        if (mask.dtype != ScalarType.Bool || mask.Dimensions != 2 || mask.shape[0] != prediction.shape[0] || mask.shape[1] != prediction.shape[1])
        {
            ThrowHelper.ThrowArgument(nameof(mask), $"must be bool [{prediction.shape[0]}, {prediction.shape[1]}]; got {mask.dtype} [{string.Join(", ", mask.shape)}].");
        }

        using var scope = NewDisposeScope();
        long vocab = prediction.shape[2];
        var valid = mask.to(prediction.device);

        // where(), not a multiplication: a masked entry gets gradient 0 even if its target is not finite.
        var error = where(valid.unsqueeze(-1), prediction - target.to(prediction.dtype, prediction.device), zeros(1, dtype: prediction.dtype, device: prediction.device));
        var perSequence = error.Squared().sum(new long[] { 1, 2 });
        Tensor loss;
        if (reduction == CopilotLossReduction.RootMeanSquare)
        {
            var count = valid.sum().to_type(prediction.dtype);
            var mean = perSequence.sum() / count.clamp_min(TorchScalars.One).Times(vocab);
            loss = SafeSqrt(mean);
        }
        else
        {
            var hasValid = valid.any(1).to_type(prediction.dtype);
            loss = (SafeSqrt(perSequence) * hasValid).sum() / hasValid.sum().clamp_min(TorchScalars.One);
        }

        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>sqrt(S) with value and gradient exactly 0 at S = 0.</summary>
    private static Tensor SafeSqrt(Tensor s)
    {
        var positive = s.gt(TorchScalars.Zero);
        return where(positive, where(positive, s, ones_like(s)).sqrt(), zeros_like(s));
    }

    private static bool Same(long[] a, long[] b) => a.AsSpan().SequenceEqual(b);
}
