
namespace Logits.Diffusion;

/// <summary>Host-side helpers shared by the discrete-diffusion samplers.</summary>
internal static class DiffusionMath
{
    /// <summary>
    /// The exponential race over a row of log-weights: one uniform per finite entry in ascending index, winner
    /// <c>argmax_y (w_y − ln(−ln U_y))</c>, ties to the lowest index (docs/algorithms/discrete-diffusion.md#randomness).
    /// </summary>
    /// <returns>The winner, or −1 when the row has no finite entry (nothing is drawn then).</returns>
    public static int Race(ReadOnlySpan<float> logWeights, UniformStream uniforms)
    {
        int best = -1;
        double bestScore = double.NegativeInfinity;
        for (int y = 0; y < logWeights.Length; y++)
        {
            float w = logWeights[y];
            if (float.IsNegativeInfinity(w))
            {
                continue;
            }

            // ln w - ln E with E = -ln U: the race argmax_y w_y / E_y in log space.
            double score = w - Math.Log(-Math.Log(uniforms.Next()));
            if (best < 0 || score > bestScore)
            {
                best = y;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>Throws when a host copy of model output holds NaN or +∞.</summary>
    public static void CheckFinite(ReadOnlySpan<float> values, int vocab, int rowOffset, string stage)
    {
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (float.IsNaN(v) || float.IsPositiveInfinity(v))
            {
                ThrowHelper.ThrowInvalidLogits(rowOffset + (i / vocab), i % vocab, v, stage);
            }
        }
    }

    /// <summary>Checks <c>initial</c> and the batch shape; every id must be a real token or the mask id.</summary>
    public static void CheckTokens(ReadOnlySpan<int> tokens, int sequences, int vocabulary, int maskId, string paramName)
    {
        Require.AtLeast(sequences, 1, nameof(sequences));

        if (tokens.Length == 0 || tokens.Length % sequences != 0)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {tokens.Length} ids, which is not a positive multiple of {sequences} sequences.");
        }

        for (int i = 0; i < tokens.Length; i++)
        {
            int id = tokens[i];
            if (id != maskId && (id < 0 || id >= vocabulary))
            {
                ThrowHelper.ThrowArgument(paramName, $"holds {id} at index {i}, which is neither a real token in [0, {vocabulary}) nor the mask id {maskId}.");
            }
        }
    }
}
