using System.Numerics;

namespace Logits.Processing;

/// <summary>
/// The float64 row math of rows already on the host: the log-softmax of the distillation losses (AlignDistil, Dual-Head
/// KD), which work on host copies of student and teacher rows, and the max-shifted exponential sum behind LLaDA's
/// confidence and the softmax cross-entropy surrogate. Row statistics of a batch come from the <c>RowStatistics</c>
/// kernel instead.
/// </summary>
internal static class HostRowMath
{
    /// <summary>
    /// <c>destination = log_softmax(factor · x)</c> in float64, max-shifted (a temperature is <c>factor = 1/τ</c>); the
    /// shared float64 log-softmax of the distillation losses.
    /// </summary>
    public static void LogSoftmax<T>(ReadOnlySpan<T> x, double factor, Span<double> destination)
        where T : unmanaged, INumberBase<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = double.CreateTruncating(x[i]) * factor;
        }

        LogSoftmaxInPlace(destination[..x.Length]);
    }

    /// <summary><c>x ← log_softmax(x)</c> in float64, max-shifted.</summary>
    public static void LogSoftmaxInPlace(Span<double> x)
    {
        var (max, sum) = MaxAndShiftedSumExp<double>(x);
        double logSum = Math.Log(sum);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = x[i] - max - logSum;
        }
    }

    /// <summary>
    /// The row maximum <c>m</c> and <c>Σ exp(x_i - m)</c>, in float64: the two parts of a stable log-sum-exp
    /// (<c>m + ln Σ</c>) or softmax (<c>exp(x_i - m) / Σ</c>) of a row already on the host.
    /// </summary>
    public static (double Max, double SumExp) MaxAndShiftedSumExp<T>(ReadOnlySpan<T> x)
        where T : unmanaged, INumberBase<T>
    {
        double max = double.NegativeInfinity;
        foreach (T v in x)
        {
            max = Math.Max(max, double.CreateTruncating(v));
        }

        double sum = 0;
        foreach (T v in x)
        {
            sum += Math.Exp(double.CreateTruncating(v) - max);
        }

        return (max, sum);
    }
}
