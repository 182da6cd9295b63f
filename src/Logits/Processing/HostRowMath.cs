using System.Numerics;

namespace Logits.Processing;

/// <summary>
/// The float64 log-softmax of rows already on the host, shared by the distillation losses (AlignDistil, Dual-Head KD),
/// which work on host copies of student and teacher rows. Row statistics of a batch come from the
/// <c>RowStatistics</c> kernel instead.
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
        double max = double.NegativeInfinity;
        foreach (double v in x)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (double v in x)
        {
            sum += Math.Exp(v - max);
        }

        double logSum = Math.Log(sum);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = x[i] - max - logSum;
        }
    }
}
