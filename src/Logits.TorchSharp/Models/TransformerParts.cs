using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Models;

/// <summary>
/// The pieces the library's transformers share (<see cref="DecoderTransformer"/>, <see cref="LlamaDecoder"/>, the
/// Copilot and the masked-token denoiser): multi-head scaled dot-product attention, the causal mask, the token-id input
/// check and the parameter count.
/// </summary>
internal static class TransformerParts
{
    /// <summary>
    /// <c>softmax(QKᵀ/√d_h + M)·V</c> per head, the heads merged back: <paramref name="query"/> <c>[B, H, T, d_h]</c>,
    /// <paramref name="key"/> and <paramref name="value"/> <c>[B, H, S, d_h]</c>, result <c>[B, T, H·d_h]</c>.
    /// </summary>
    /// <param name="query">The queries.</param>
    /// <param name="key">The keys.</param>
    /// <param name="value">The values.</param>
    /// <param name="blocked">Null (every position sees every other), or a bool mask broadcastable to <c>[B, H, T, S]</c>,
    /// true where query t may not see key s (<c>M = −∞</c> there).</param>
    public static Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? blocked)
    {
        using var scope = NewDisposeScope();
        long b = query.shape[0], heads = query.shape[1], t = query.shape[2], dh = query.shape[3];
        Tensor scores = matmul(query, key.transpose(-2, -1)).DividedBy(Math.Sqrt(dh));
        if (blocked is not null)
        {
            scores = scores.masked_fill(blocked, TorchScalars.NegativeInfinity);
        }

        return matmul(functional.softmax(scores, -1), value).transpose(1, 2).reshape(b, t, heads * dh).MoveToOuterDisposeScope();
    }

    /// <summary>The causal mask <c>[T, T]</c>: true above the diagonal, so position k sees positions ≤ k only (the diagonal
    /// keeps every row finite).</summary>
    public static Tensor FutureMask(long length, Device device) =>
        ones(new long[] { length, length }, ScalarType.Bool, device).triu(1);

    /// <summary>Checks a batch of token ids: 2-D int64 <c>[B ≥ 1, 1 ≤ T ≤ maxSequenceLength]</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="tokens"/> is null.</exception>
    /// <exception cref="ArgumentException">The dtype or the shape is wrong.</exception>
    public static void ValidateTokens(Tensor tokens, int maxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.dtype != ScalarType.Int64)
        {
            ThrowHelper.ThrowArgument(nameof(tokens), $"has dtype {tokens.dtype} but Int64 token ids are required.");
        }

        if (tokens.Dimensions != 2 || tokens.shape[0] < 1 || tokens.shape[1] < 1 || tokens.shape[1] > maxSequenceLength)
        {
            ThrowHelper.ThrowArgument(nameof(tokens), $"has shape [{string.Join(", ", tokens.shape)}] but [B ≥ 1, 1 ≤ T ≤ {maxSequenceLength}] is required.");
        }
    }

    /// <summary>The number of trainable scalars of <paramref name="module"/> (a shared tensor is counted once, as
    /// <c>parameters()</c> lists it once).</summary>
    public static long ParameterCount(Module module)
    {
        long count = 0;
        foreach (var parameter in module.parameters())
        {
            count += parameter.numel();
        }

        return count;
    }
}
