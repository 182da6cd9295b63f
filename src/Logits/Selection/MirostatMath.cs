
namespace Logits.Selection;

/// <summary>The steps mirostat v1 and v2 share: row checks, the truncated multinomial draw, and the μ update.</summary>
internal static class MirostatMath
{
    /// <summary>ln 2, to turn nats into bits.</summary>
    public const double Ln2 = 0.69314718055994530942;

    /// <summary>Throws for NaN/+∞ (stage "input") or an all -∞ row; returns the number of finite entries.</summary>
    public static int CheckRow(ReadOnlySpan<float> row, int rowIndex, string stage)
    {
        int finite = 0;
        for (int i = 0; i < row.Length; i++)
        {
            float z = row[i];
            if (!(z < float.PositiveInfinity))
            {
                ThrowHelper.ThrowInvalidLogits(rowIndex, i, z, "input");
            }

            if (!float.IsNegativeInfinity(z))
            {
                finite++;
            }
        }

        if (finite == 0)
        {
            ThrowHelper.ThrowNoViableToken(rowIndex, stage);
        }

        return finite;
    }

    /// <summary>
    /// The multinomial rule of docs/algorithms/selection.md#multinomial over the tokens with <c>z_i ≥ cutoff</c>: with
    /// <c>w_i = exp(z_i - m)</c> and <c>S' = Σ_kept w</c> (float64), the smallest id with <c>u·S' &lt; C_i</c>, scanning
    /// ascending ids; if rounding leaves <c>u·S' ≥ C_last</c>, the last kept id with <c>w &gt; 0</c>.
    /// </summary>
    /// <param name="row">The row; holds at least one finite value and the cutoff is at most its maximum.</param>
    /// <param name="cutoff">Tokens with <c>z &lt; cutoff</c> are truncated away.</param>
    /// <param name="u">A uniform in <c>[0, 1)</c>.</param>
    /// <param name="probability">The renormalised probability <c>q' = w_sel / S'</c> of the returned token.</param>
    public static int Draw(ReadOnlySpan<float> row, double cutoff, double u, out double probability) =>
        Logits.Tensors.Cpu.CpuKernels.DrawAtOrAbove(row, cutoff, u, out probability);

    /// <summary>The renormalised probability <c>q'</c> of <paramref name="token"/> among the tokens with <c>z ≥ cutoff</c> (0 if truncated).</summary>
    public static double RenormalisedProbability(ReadOnlySpan<float> row, double cutoff, int token)
    {
        double sum = KeptSum(row, cutoff, out float max);

        return row[token] >= cutoff ? Math.Exp((double)row[token] - max) / sum : 0;
    }

    /// <summary><c>Σ exp(z_i − max)</c> over the kept tokens <c>z_i ≥ cutoff</c>, in float64, and the row maximum.</summary>
    internal static double KeptSum(ReadOnlySpan<float> row, double cutoff, out float max)
    {
        max = float.NegativeInfinity;
        foreach (float z in row)
        {
            max = Math.Max(max, z);
        }

        double sum = 0;
        foreach (float z in row)
        {
            if (z >= cutoff)
            {
                sum += Math.Exp((double)z - max);
            }
        }

        return sum;
    }

    /// <summary>The update <c>μ ← μ − η·(−log₂ q' − τ)</c>, with <c>q'</c> the renormalised probability of the selected token.</summary>
    public static double NextMu(double mu, double tau, double eta, double probability) =>
        mu - (eta * ((-Math.Log(probability) / Ln2) - tau));

    /// <summary>Grows the per-row <c>μ</c> so rows <c>[0, rows)</c> exist; new rows start at <paramref name="initialMu"/>.</summary>
    public static void EnsureMu(ref double[] mu, double initialMu, int rows)
    {
        if (mu.Length < rows)
        {
            int start = mu.Length;
            Array.Resize(ref mu, rows);
            for (int r = start; r < rows; r++)
            {
                mu[r] = initialMu;
            }
        }
    }

    /// <summary>Validation shared by both versions.</summary>
    public static void Validate(double tau, double eta)
    {
        if (!(tau > 0) || !double.IsFinite(tau))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(tau), tau, "must be finite and greater than 0 (target surprise in bits)");
        }

        if (!(eta >= 0) || !double.IsFinite(eta))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(eta), eta, "must be finite and at least 0 (learning rate)");
        }
    }
}
