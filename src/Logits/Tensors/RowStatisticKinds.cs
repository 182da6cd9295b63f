
namespace Logits.Tensors;

/// <summary>Which statistics <see cref="ILogitKernels.RowStatistics"/> computes beyond the maximum and the finite count.</summary>
/// <remarks>Statistics not asked for are returned as NaN, so a rule that reads one it did not ask for fails visibly.</remarks>
[Flags]
public enum RowStatisticKinds
{
    /// <summary>Only the maximum and the number of finite entries.</summary>
    None = 0,

    /// <summary>The log-sum-exp, <c>m + ln Σ_F exp(z_i - m)</c>.</summary>
    LogSumExp = 1,

    /// <summary>The entropy in nats of <c>softmax(z)</c>, <c>H = -Σ_F p_i ln p_i</c> (includes <see cref="LogSumExp"/>).</summary>
    Entropy = 2 | LogSumExp,

    /// <summary>The mean and the population standard deviation of the finite logits.</summary>
    Moments = 4,

    /// <summary>Everything.</summary>
    All = Entropy | Moments,
}
