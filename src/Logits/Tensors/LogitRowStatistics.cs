namespace Logits.Tensors;

/// <summary>Statistics of one row over its finite entries <c>F</c> (the <c>-∞</c> entries are removed tokens and ignored).</summary>
/// <param name="Finite">The number of finite entries, <c>|F|</c>; 0 for a row that is all <c>-∞</c>.</param>
/// <param name="Max">The row maximum; <c>-∞</c> for an empty row.</param>
/// <param name="LogSumExp"><c>m + ln Σ_F exp(z_i - m)</c> in float64; NaN unless asked for (also for an empty row); <c>-∞</c> for an empty row when asked for.</param>
/// <param name="Entropy"><c>-Σ_F p_i ln p_i</c> in nats, <c>p = softmax(z)</c>, float64, at least 0; NaN unless asked for or for an empty row.</param>
/// <param name="Mean">The mean of the finite logits, float64; NaN unless asked for or for an empty row.</param>
/// <param name="StandardDeviation">The population standard deviation of the finite logits, float64; NaN unless asked for or for an empty row.</param>
/// <remarks>
/// Computed by <see cref="ILogitKernels.RowStatistics"/>. The sums subtract the row maximum and accumulate in
/// float64; the standard deviation sums squared deviations from the mean (two passes), which does not cancel the way
/// <c>Σz² - |F|·mean²</c> does.
/// </remarks>
public readonly record struct LogitRowStatistics(int Finite, float Max, double LogSumExp, double Entropy, double Mean, double StandardDeviation);
