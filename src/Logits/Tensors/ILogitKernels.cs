using Logits.Randomness;

namespace Logits.Tensors;

/// <summary>
/// The primitive operations every backend implements on <see cref="LogitBatch"/> rows. Algorithms
/// (processors, selectors, samplers) are written once against this set.
/// </summary>
/// <remarks>
/// <para>Common contract (both backends, pinned by tests):</para>
/// <list type="bullet">
/// <item>All batches in one call must have the same shape and backend; otherwise
/// <see cref="ArgumentException"/> naming the parameter. Per-row spans (thresholds, k, p, uniforms and
/// per-row destinations) must be exactly <see cref="LogitBatch.Rows"/> long.</item>
/// <item>Every operation that writes a batch may do so in place (<c>destination</c> the same object as
/// <c>x</c>).</item>
/// <item>NaN and <c>+∞</c> are never valid logits: the operation throws <see cref="InvalidLogitsException"/>
/// naming the first offending row and token (docs/algorithms/conventions.md#non-finite-input). Element-wise operations check
/// their output, so an overflow they cause is reported with their stage name.</item>
/// <item><c>-∞</c> marks a removed token and stays <c>-∞</c>. Operations that need a distribution
/// (softmax, log-softmax, logsumexp, argmax, top-p, sampling) throw <see cref="NoViableTokenException"/>
/// naming the row when every entry of a row is <c>-∞</c>.</item>
/// <item>Reductions subtract the row maximum first; nothing overflows for finite logits of any size.</item>
/// <item>CPU and torch results agree within 1e-5 relative; thresholds and tokens agree except for
/// inputs within rounding distance of a decision boundary.</item>
/// </list>
/// </remarks>
public interface ILogitKernels
{
    /// <summary>A short name of the backend and device, e.g. <c>"cpu"</c> or <c>"torch:cpu"</c>.</summary>
    string Name { get; }

    /// <summary>Stable softmax of every row: <c>p_i = exp(z_i - m) / Σ_j exp(z_j - m)</c>, <c>m = max_j z_j</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="destination">Receives the probabilities (may be <paramref name="x"/>).</param>
    /// <remarks><c>-∞</c> gives probability 0. Unlike <c>TensorPrimitives.SoftMax</c>, logits above 88.7 do not overflow.</remarks>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c>.</exception>
    void Softmax(LogitBatch x, LogitBatch destination);

    /// <summary>Stable log-softmax of every row: <c>z_i - m - ln Σ_j exp(z_j - m)</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="destination">Receives the log-probabilities (may be <paramref name="x"/>).</param>
    /// <remarks><c>-∞</c> stays <c>-∞</c>; the sum is at least 1, so its logarithm is always finite.</remarks>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c>.</exception>
    void LogSoftmax(LogitBatch x, LogitBatch destination);

    /// <summary>Per-row log-sum-exp, <c>m + ln Σ_j exp(z_j - m)</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="destination">One value per row.</param>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c>.</exception>
    void LogSumExp(LogitBatch x, Span<float> destination);

    /// <summary>The checked maximum of every row.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="destination">One value per row; <c>-∞</c> for a row that is all <c>-∞</c> (not an error here).</param>
    /// <remarks>One pass that also rejects NaN and <c>+∞</c>: the entry check of a pipeline call is this kernel.</remarks>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void RowMax(LogitBatch x, Span<float> destination);

    /// <summary>Statistics of every row over its finite entries: maximum, count, and what <paramref name="kinds"/> asks for.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="kinds">The statistics to compute (log-sum-exp, entropy, mean and standard deviation); the others are NaN.</param>
    /// <param name="destination">One <see cref="LogitRowStatistics"/> per row.</param>
    /// <remarks>
    /// Log-sum-exp and entropy come from one pass after the maximum: with <c>w_i = exp(z_i - m)</c>,
    /// <c>S = Σ w_i</c> and <c>T = Σ (z_i - m) w_i</c>, <c>lse = m + ln S</c> and <c>H = ln S - T/S</c>. Mean and
    /// standard deviation take two passes. A row that is all <c>-∞</c> gives <c>Finite = 0</c> (no exception).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kinds"/> is not an OR of defined flags: an undefined
    /// bit, or the entropy bit without <see cref="RowStatisticKinds.LogSumExp"/>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void RowStatistics(LogitBatch x, RowStatisticKinds kinds, Span<LogitRowStatistics> destination);

    /// <summary>Multiplies every entry of row <c>r</c> by <c>factors[r]</c> (temperature is <c>factor = 1/T</c>).</summary>
    /// <param name="x">The logits.</param>
    /// <param name="factors">One finite factor greater than 0 per row, so <c>-∞</c> stays <c>-∞</c>.
    /// <see cref="LogitKernelsExtensions.Scale(ILogitKernels, LogitBatch, float, LogitBatch)"/> takes one factor for all rows.</param>
    /// <param name="destination">Receives <c>factors[r] * x[r, i]</c> (may be <paramref name="x"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A factor is not finite and positive.</exception>
    /// <exception cref="InvalidLogitsException">An input is NaN/<c>+∞</c> (stage <c>"input"</c>) or a product overflows (stage <c>"scale"</c>).</exception>
    void Scale(LogitBatch x, ReadOnlySpan<float> factors, LogitBatch destination);

    /// <summary>
    /// Entropy-dependent temperature (dynamic temperature as one kernel): each row is divided by
    /// <c>T = minimum + range·(H / ln|F|)^exponent</c>, <c>H</c> its entropy and <c>|F|</c> its number of finite entries.
    /// </summary>
    /// <param name="x">The logits.</param>
    /// <param name="minimum">Per row, finite: the temperature at entropy 0.</param>
    /// <param name="range">Per row, finite: the temperature added at the largest entropy, <c>ln|F|</c>.</param>
    /// <param name="exponent">Finite and greater than 0.</param>
    /// <param name="greedyBelow">Finite and at least 0: a row whose <c>T</c> is below it keeps only its argmax.</param>
    /// <param name="destination">Receives the result (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// <para>The same result as <see cref="RowStatistics"/> (entropy), then per row in float64 <c>T</c> as above (from
    /// <c>Math.Log</c> and <c>Math.Pow</c>), then <see cref="Scale"/> by <c>(float)(1/T)</c> for the rows with
    /// <c>T ≥ greedyBelow</c> and <see cref="MaskExceptArgMax"/> for the others. A row with at most one finite entry is
    /// copied unchanged (so an all-<c>-∞</c> row stays so). Nothing has to reach the caller, so a device backend keeps the
    /// statistics and temperatures on the device (no host read).</para>
    /// <para>A product that overflows throws with stage <c>"scale"</c>, as <see cref="Scale"/> does; a factor that is not
    /// finite and positive (a <c>T</c> at or below 0 with <c>greedyBelow = 0</c>, or above about 3e45) throws
    /// <see cref="ArgumentOutOfRangeException"/> for <c>factors</c>, as <see cref="Scale"/> does.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A per-row span does not hold one value per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A minimum or range is not finite, the exponent is not finite and
    /// positive, <paramref name="greedyBelow"/> is not finite and at least 0, or a factor is not finite and positive.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c> (stage <c>"input"</c>) or a product overflows
    /// (stage <c>"scale"</c>).</exception>
    void ScaleByEntropy(LogitBatch x, ReadOnlySpan<double> minimum, ReadOnlySpan<double> range, double exponent, double greedyBelow, LogitBatch destination);

    /// <summary>Affine combination of up to three batches: <c>destination = a·x + b·y + c·z</c>, element-wise.</summary>
    /// <param name="a">Coefficient of <paramref name="x"/>; finite.</param>
    /// <param name="x">The first batch.</param>
    /// <param name="b">Coefficient of <paramref name="y"/>; finite; 0 skips the term.</param>
    /// <param name="y">The second batch; may be <see langword="null"/> only when <paramref name="b"/> is 0.</param>
    /// <param name="c">Coefficient of <paramref name="z"/>; finite; 0 skips the term.</param>
    /// <param name="z">The third batch; may be <see langword="null"/> only when <paramref name="c"/> is 0.</param>
    /// <param name="destination">Receives the combination (may alias any input).</param>
    /// <remarks>
    /// A term whose coefficient is 0 contributes nothing, so <c>0·(-∞)</c> never makes NaN. Other
    /// terms follow IEEE arithmetic: a <c>-∞</c> with a positive coefficient makes <c>-∞</c>; a result
    /// that is NaN (<c>∞ - ∞</c>) or <c>+∞</c> (a <c>-∞</c> with a negative coefficient) throws
    /// <see cref="InvalidLogitsException"/> with stage <c>"affine"</c>. Methods that need another rule
    /// for <c>-∞</c> (CFG, STEER) mask before combining.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A coefficient is not finite.</exception>
    /// <exception cref="ArgumentNullException">A batch with a non-zero coefficient is null.</exception>
    /// <exception cref="InvalidLogitsException">An input is NaN/<c>+∞</c> or a result is NaN/<c>+∞</c>.</exception>
    void Affine(float a, LogitBatch x, float b, LogitBatch? y, float c, LogitBatch? z, LogitBatch destination);

    /// <summary>Per-row argmax; ties go to the lowest index and <c>-0 = +0</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="destination">One token id per row.</param>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c> (never token 0).</exception>
    void ArgMax(LogitBatch x, Span<int> destination);

    /// <summary>Sets every entry strictly below its row's threshold to <c>-∞</c>; others are copied unchanged.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="thresholds">One threshold per row; not NaN. <c>-∞</c> keeps everything; a threshold
    /// above the row maximum empties the row.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is NaN.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskBelow(LogitBatch x, ReadOnlySpan<float> thresholds, LogitBatch destination);

    /// <summary>Sets every entry outside its row's closed band <c>[lower, upper]</c> to <c>-∞</c>; others are copied unchanged.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="lower">One lower bound per row; not NaN (<c>-∞</c>: no lower cut).</param>
    /// <param name="upper">One upper bound per row; not NaN (<c>+∞</c>: no upper cut).</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks><see cref="MaskBelow"/> is the case <c>upper = +∞</c>. A band with <c>lower &gt; upper</c> empties the row.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A bound is NaN.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskOutside(LogitBatch x, ReadOnlySpan<float> lower, ReadOnlySpan<float> upper, LogitBatch destination);

    /// <summary>The <c>k</c>-th largest value of each row, counting duplicates.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="k">Per row, in <c>[1, Vocab]</c>.</param>
    /// <param name="destination">One value per row: <c>-∞</c> when <c>k</c> exceeds the number of finite entries.</param>
    /// <remarks>Keeping <c>z_i ≥</c> this value is top-k with ties at the boundary kept (docs/algorithms/truncation.md#top-k).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A <c>k</c> is outside <c>[1, Vocab]</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void KthLargest(LogitBatch x, ReadOnlySpan<int> k, Span<float> destination);

    /// <summary>The top-p (nucleus) cut of each row: the value <c>τ</c> such that keeping <c>z_i ≥ τ</c> keeps the nucleus.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="p">Per row, in <c>[0, 1]</c>, used in double precision exactly as given.</param>
    /// <param name="minTokensToKeep">At least 1: the cut keeps at least <c>min(minTokensToKeep, |F|)</c> tokens.</param>
    /// <param name="destination">One threshold per row.</param>
    /// <remarks>
    /// The inclusive rule of docs/algorithms/truncation.md#top-p: walking the finite tokens by value descending and
    /// accumulating <c>p_i</c> in float64, <c>n</c> is the smallest count whose mass is
    /// <c>≥ p - 1e-6</c>, raised to <c>min(minTokensToKeep, |F|)</c>; <c>τ</c> is the <c>n</c>-th value, so
    /// tie groups stay whole. <c>p = 0</c> gives the maximum; <c>p ≥ 1</c> gives <c>-∞</c> (keep all).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> has a value outside <c>[0, 1]</c>
    /// or <paramref name="minTokensToKeep"/> is below 1.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c>.</exception>
    void TopPThreshold(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, Span<float> destination);

    /// <summary>Top-k as one mask: sets every entry below its row's <c>k</c>-th largest value to <c>-∞</c> (ties at the boundary kept).</summary>
    /// <param name="x">The logits.</param>
    /// <param name="k">Per row, in <c>[1, Vocab]</c>; <c>k = Vocab</c> keeps the row.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// The same result as <see cref="KthLargest"/> followed by <see cref="MaskBelow"/>, but the thresholds never have to
    /// reach the caller, so a device backend keeps them on the device (no host read). An all-<c>-∞</c> row stays so.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A <c>k</c> is outside <c>[1, Vocab]</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskBelowKthLargest(LogitBatch x, ReadOnlySpan<int> k, LogitBatch destination);

    /// <summary>Top-k keeping exactly <c>k</c> tokens: the <c>k</c> largest entries of each row, ties at the boundary broken by the lowest id; every other entry becomes <c>-∞</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="k">Per row, in <c>[1, Vocab]</c>; <c>k = Vocab</c> keeps the row.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// With <c>τ</c> the <see cref="KthLargest"/> value, every entry above <c>τ</c> is kept and of the entries equal to
    /// <c>τ</c> (<c>-0 = +0</c>) only the lowest ids, up to <c>k</c> kept in all (docs/algorithms/truncation.md#top-k,
    /// ExactK). A row with at most <c>k</c> finite entries keeps them all; an all-<c>-∞</c> row stays so. The thresholds and
    /// counts never have to reach the caller, so a device backend needs no host read.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A <c>k</c> is outside <c>[1, Vocab]</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskExceptTopK(LogitBatch x, ReadOnlySpan<int> k, LogitBatch destination);

    /// <summary>Top-p as one mask: sets every entry below its row's <see cref="TopPThreshold"/> cut to <c>-∞</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="p">Per row, in <c>[0, 1]</c>; <c>p ≥ 1</c> keeps the row.</param>
    /// <param name="minTokensToKeep">At least 1: the cut keeps at least <c>min(minTokensToKeep, |F|)</c> tokens.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// The same result as <see cref="TopPThreshold"/> followed by <see cref="MaskBelow"/>, except that an all-<c>-∞</c>
    /// row stays so instead of throwing; the thresholds never have to reach the caller, so a device backend keeps them
    /// on the device (no host read).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> has a value outside <c>[0, 1]</c>
    /// or <paramref name="minTokensToKeep"/> is below 1.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskBelowTopP(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, LogitBatch destination);

    /// <summary>Top-p by Hugging Face's complement rule as one mask (<c>TopPMode.HfComplement</c>): removes the least likely tokens whose ascending cumulative probability stays within <c>1 - p</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="p">Per row, in <c>[0, 1]</c>; <c>p ≥ 1</c> keeps the row.</param>
    /// <param name="minTokensToKeep">At least 1: the cut keeps at least <c>min(minTokensToKeep, |F|)</c> tokens.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// HF's <c>TopPLogitsWarper</c> in float32, as it evaluates it (docs/algorithms/truncation.md#top-p): the finite logits
    /// sorted ascending, <c>q_i = exp(z_i - m)</c>, <c>S = Σ q</c>, and the tokens whose running sum of <c>q_i / S</c> is
    /// <c>≤ (float)(1 - p)</c> are removed, at most <c>|F| - minTokensToKeep</c> of them; the cut becomes the value
    /// threshold <c>τ</c> of the first kept token, so tie groups stay whole. An all-<c>-∞</c> row stays so. The thresholds
    /// never have to reach the caller, so a device backend keeps them on the device (no host read); its float32 sums may
    /// round differently, which only matters for a token within rounding distance of the cut.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> has a value outside <c>[0, 1]</c>
    /// or <paramref name="minTokensToKeep"/> is below 1.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskBelowTopPComplement(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, LogitBatch destination);

    /// <summary>Sets every entry below its row's maximum plus <c>offsets[r]</c> to <c>-∞</c> (min-p as one mask).</summary>
    /// <param name="x">The logits.</param>
    /// <param name="offsets">Per row, at most 0 and not NaN (<c>-∞</c> keeps the row): min-p's <c>ln Pmin</c>.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// The threshold <c>m + offset</c> is formed in float64 and rounded to float32 once, so the result is the same as
    /// <see cref="RowMax"/>, that sum, and <see cref="MaskBelow"/>; but the maxima never have to reach the caller, so a
    /// device backend keeps them on the device (no host read). An offset at most 0 keeps every row's maximum; an
    /// all-<c>-∞</c> row stays so.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">An offset is NaN or above 0.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskBelowMaxPlus(LogitBatch x, ReadOnlySpan<double> offsets, LogitBatch destination);

    /// <summary>
    /// Sets every entry below its row's threshold to <c>-∞</c>, the threshold an affine rule of the row's statistics:
    /// <c>τ = min(m + a - n·σ, lse + b, lse - H + c)</c>, lowered to the <paramref name="minTokensToKeep"/>-th largest value.
    /// </summary>
    /// <param name="x">The logits.</param>
    /// <param name="rules">One rule per row: <c>a</c> = <see cref="RowThresholdRule.MaxOffset"/>, <c>n</c> =
    /// <see cref="RowThresholdRule.StandardDeviations"/>, <c>b</c> = <see cref="RowThresholdRule.LogSumExpOffset"/>, <c>c</c> =
    /// <see cref="RowThresholdRule.EntropyOffset"/>.</param>
    /// <param name="minTokensToKeep">At least 1: the cut keeps at least <c>min(minTokensToKeep, |F|)</c> tokens.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// <para>Over the row's finite entries <c>F</c>: <c>m</c> the maximum, <c>lse</c> the log-sum-exp, <c>H</c> the entropy in
    /// nats and <c>σ</c> the population standard deviation (as <see cref="RowStatistics"/> computes them; only the ones a
    /// row's rule uses are computed). <c>τ</c> is formed in float64 and rounded to float32 once, then lowered to the
    /// <c>min(minTokensToKeep, Vocab)</c>-th largest value, so the row keeps at least that many tokens (ties kept) and
    /// never loses its maximum. An offset of <c>+∞</c> switches its term off; <c>-∞</c> keeps the whole row.</para>
    /// <para>The truncations of docs/algorithms/truncation.md are such rules: epsilon <c>(+∞, 0, ln ε, +∞)</c>, eta
    /// <c>(+∞, 0, ln ε, ½ ln ε)</c> (<c>ln min(ε, √ε·e^(-H)) = min(ln ε, ½ ln ε - H)</c>), top-nσ <c>(0, n, +∞, +∞)</c> and
    /// min-p <c>(ln Pmin, 0, +∞, +∞)</c>. The thresholds never have to reach the caller, so a device backend keeps them
    /// on the device (no host read). An all-<c>-∞</c> row stays so.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A rule is invalid (a NaN, or <see cref="RowThresholdRule.StandardDeviations"/>
    /// negative or not finite), or <paramref name="minTokensToKeep"/> is below 1.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskBelowRowThreshold(LogitBatch x, ReadOnlySpan<RowThresholdRule> rules, int minTokensToKeep, LogitBatch destination);

    /// <summary>Locally typical sampling as one mask: sets every entry outside its row's <see cref="TypicalBand"/> to <c>-∞</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="mass">Per row, in <c>(0, 1]</c>; 1 keeps the row.</param>
    /// <param name="minTokensToKeep">At least 1: the set keeps at least <c>min(minTokensToKeep, |F|)</c> tokens.</param>
    /// <param name="strict">Stop when the accumulated mass exceeds <paramref name="mass"/> (<see langword="true"/>) or reaches it.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// The same result as <see cref="TypicalBand"/> followed by <see cref="MaskOutside"/>, except that an all-<c>-∞</c> row
    /// stays so instead of throwing; the bands never have to reach the caller, so a device backend keeps them on the
    /// device (no host read).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mass"/> has a value outside <c>(0, 1]</c>
    /// or <paramref name="minTokensToKeep"/> is below 1.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskOutsideTypical(LogitBatch x, ReadOnlySpan<double> mass, int minTokensToKeep, bool strict, LogitBatch destination);

    /// <summary>XTC's removal as one mask: removes every likely token of a row except the least likely of them (docs/algorithms/truncation.md#xtc).</summary>
    /// <param name="x">The logits.</param>
    /// <param name="threshold">Per row, at least 0 and not NaN: the probability a token needs to count as a top choice;
    /// <c>+∞</c> leaves the row alone (a row XTC does not act on).</param>
    /// <param name="minTokensToKeep">At least 1: the removal is skipped if fewer finite tokens would remain.</param>
    /// <param name="protectedIds">Ids in <c>[0, Vocab)</c>, the same for every row: the removal is skipped if it would remove one.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// With <c>p_i = exp(z_i - lse)</c> in float64 (<c>lse</c> as <see cref="RowStatistics"/> computes it), the qualifiers are
    /// <c>A = {i ∈ F : p_i ≥ threshold}</c> and <c>τ</c> the smallest logit in <c>A</c>. If <c>|A| ≥ 2</c> and some qualifier
    /// has a probability strictly above <c>τ</c>'s, every entry above <c>τ</c> becomes <c>-∞</c>, unless fewer than
    /// <paramref name="minTokensToKeep"/> finite tokens would remain or a protected id's logit is above <c>τ</c>. An
    /// all-<c>-∞</c> row stays so. Nothing has to reach the caller, so a device backend needs no host read.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="threshold"/> does not hold one value per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is NaN or negative, <paramref name="minTokensToKeep"/> is
    /// below 1, or a protected id is outside <c>[0, Vocab)</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskTopChoices(LogitBatch x, ReadOnlySpan<double> threshold, int minTokensToKeep, ReadOnlySpan<int> protectedIds, LogitBatch destination);

    /// <summary>The <paramref name="count"/> largest values of each row, in descending order (duplicates counted).</summary>
    /// <param name="x">The logits.</param>
    /// <param name="count">Values per row, in <c>[1, Vocab]</c>.</param>
    /// <param name="destination">Row-major, <c>Rows * count</c> values; <c>-∞</c> past the row's finite entries.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is outside <c>[1, Vocab]</c>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <c>Rows * count</c> long.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void LargestValues(LogitBatch x, int count, Span<float> destination);

    /// <summary>The locally typical set of each row as a band of logit values: keeping <c>lower ≤ z_i ≤ upper</c> keeps it.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="mass">Per row, in <c>(0, 1]</c>: the probability mass to keep; 1 keeps everything.</param>
    /// <param name="minTokensToKeep">At least 1: the set keeps at least <c>min(minTokensToKeep, |F|)</c> tokens.</param>
    /// <param name="strict">Stop when the accumulated mass exceeds <paramref name="mass"/> (<see langword="true"/>) or reaches it.</param>
    /// <param name="lower">One lower bound per row.</param>
    /// <param name="upper">One upper bound per row.</param>
    /// <remarks>
    /// The rule of docs/algorithms/truncation.md#typical: with <c>H</c> the row's entropy and <c>lse</c> its log-sum-exp,
    /// token <c>i</c> scores <c>s_i = |-(z_i - lse) - H|</c>; walking the finite tokens by ascending score and
    /// accumulating <c>p_i</c> in float64, <c>n</c> is the first count whose mass passes <paramref name="mass"/>,
    /// raised to <c>min(minTokensToKeep, |F|)</c>; every token scoring at most the <c>n</c>-th score is kept. The score is
    /// valley-shaped in <c>z</c>, so the kept set is the value band <c>[lower, upper]</c>. Mass 1 gives
    /// <c>(-∞, +∞)</c>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mass"/> has a value outside <c>(0, 1]</c>
    /// or <paramref name="minTokensToKeep"/> is below 1.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c>.</exception>
    void TypicalBand(LogitBatch x, ReadOnlySpan<double> mass, int minTokensToKeep, bool strict, Span<float> lower, Span<float> upper);

    /// <summary>Reads <c>x[r, tokenIds[r, j]]</c> for a fixed number of ids per row.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="tokenIds">Row-major ids, <c>Rows * n</c> of them; negative ids are padding.</param>
    /// <param name="destination">Same length as <paramref name="tokenIds"/>; padding gives 0.</param>
    /// <exception cref="ArgumentException">The lengths do not fit the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <c>Vocab</c> (the message names row and position).</exception>
    void Gather(LogitBatch x, ReadOnlySpan<int> tokenIds, Span<float> destination);

    /// <summary>Adds <c>values[r, j]</c> to <c>destination[r, tokenIds[r, j]]</c> in place; repeated ids accumulate.</summary>
    /// <param name="destination">The logits to update.</param>
    /// <param name="tokenIds">Row-major ids, <c>Rows * n</c> of them; negative ids are padding and skipped.</param>
    /// <param name="values">Same length as <paramref name="tokenIds"/>; finite or <c>-∞</c> (a ban).</param>
    /// <remarks><c>-∞</c> is sticky: adding anything to <c>-∞</c> leaves <c>-∞</c>.</remarks>
    /// <exception cref="ArgumentException">The lengths do not fit the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <c>Vocab</c>, or a value is NaN or <c>+∞</c>.</exception>
    /// <exception cref="InvalidLogitsException">A touched entry is (or becomes) NaN or <c>+∞</c>.</exception>
    void ScatterAdd(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> values);

    /// <summary>
    /// Penalises the given tokens in place: <c>z ← (z &gt; 0 ? z / θ : z·θ) - δ</c> at <c>destination[r, tokenIds[r, j]]</c>
    /// with <c>θ = divisors[r, j]</c> and <c>δ = offsets[r, j]</c> (the repetition, frequency and presence penalties).
    /// </summary>
    /// <param name="destination">The logits to update.</param>
    /// <param name="tokenIds">Row-major ids, <c>Rows * n</c> of them; negative ids are padding and skipped.</param>
    /// <param name="divisors">Same length as <paramref name="tokenIds"/>: each <c>θ</c> finite and greater than 0 (1: no
    /// repetition penalty).</param>
    /// <param name="offsets">Same length as <paramref name="tokenIds"/>: each <c>δ</c> finite or <c>+∞</c> (0: no subtraction;
    /// <c>+∞</c> bans the token).</param>
    /// <remarks>
    /// Evaluated in float64 from the float32 value and rounded to float32 once; a result below <c>-float.MaxValue</c>
    /// becomes <c>-∞</c> (a ban), one above <c>float.MaxValue</c> throws with stage <c>"penalize"</c>. Dividing positives
    /// and multiplying negatives always moves a logit towards <c>-∞</c> for <c>θ &gt; 1</c>; 0 stays 0 and <c>-∞</c> stays
    /// <c>-∞</c>. For a repeated id in a row every edit reads the value before the call and the last one wins (as in
    /// <see cref="Scatter"/>). Only the touched entries are read and written, so a device backend needs no host read.
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths do not fit the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <c>Vocab</c>, a divisor is not finite and positive, or
    /// an offset is NaN or <c>-∞</c>.</exception>
    /// <exception cref="InvalidLogitsException">A touched entry is NaN or <c>+∞</c> (stage <c>"input"</c>) or a result is above
    /// <c>float.MaxValue</c> (stage <c>"penalize"</c>).</exception>
    void PenalizeTokens(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets);

    /// <summary>
    /// Raises the given tokens in place by a multiple of their magnitude: <c>z ← z + |z|·g</c> at
    /// <c>destination[r, tokenIds[r, j]]</c> with <c>g = growth[r, j]</c> (the exponential-decay length penalty's boost).
    /// </summary>
    /// <param name="destination">The logits to update.</param>
    /// <param name="tokenIds">Row-major ids, <c>Rows * n</c> of them; negative ids are padding and skipped.</param>
    /// <param name="growth">Same length as <paramref name="tokenIds"/>: each <c>g</c> at least 0, <c>+∞</c> allowed.</param>
    /// <remarks>
    /// Evaluated in float64 from the float32 value and rounded to float32 once; a result above <c>float.MaxValue</c>
    /// saturates at <c>float.MaxValue</c> (never <c>+∞</c>). <c>±0</c> stays as it is (no <c>0·∞</c>) and <c>-∞</c> stays
    /// <c>-∞</c> (a removed token stays removed), so an all-<c>-∞</c> row stays so. For a repeated id in a row every edit
    /// reads the value before the call and the last one wins (as in <see cref="Scatter"/>). Only the touched entries are
    /// read and written, so a device backend needs no host read.
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths do not fit the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <c>Vocab</c>, or a growth is NaN or negative.</exception>
    /// <exception cref="InvalidLogitsException">A touched entry is NaN or <c>+∞</c> (stage <c>"input"</c>).</exception>
    void BoostTokens(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> growth);

    /// <summary>Keeps only the given token ids of each row: every other entry becomes <c>-∞</c> (an allow-list as one mask).</summary>
    /// <param name="x">The logits.</param>
    /// <param name="tokenIds">Row-major ids, <c>Rows * n</c> of them; negative ids are padding. Repeats are allowed.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// A kept entry keeps its value (a <c>-∞</c> stays <c>-∞</c>), so an all-<c>-∞</c> row stays so and a row whose listed
    /// entries are all <c>-∞</c> becomes empty. Nothing but the ids travels, so a device backend needs no host read.
    /// </remarks>
    /// <exception cref="ArgumentException">The ids do not fit the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <c>Vocab</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskExceptTokens(LogitBatch x, ReadOnlySpan<int> tokenIds, LogitBatch destination);

    /// <summary>Keeps only the argmax of each selected row at its value (temperature's greedy rule as one mask); every other entry of the row becomes <c>-∞</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="rows">One flag per row: <see langword="true"/> keeps only that row's argmax, <see langword="false"/> copies the row unchanged.</param>
    /// <param name="destination">Receives the masked logits (may be <paramref name="x"/>).</param>
    /// <remarks>
    /// The argmax is <see cref="ArgMax"/>'s: the lowest index holding the row maximum, with <c>-0 = +0</c>. An all-<c>-∞</c>
    /// row stays so (no exception), so a device backend needs no host read: the same result as <see cref="ArgMax"/>,
    /// <see cref="Gather"/>, a mask of the whole row and <see cref="Scatter"/>, without the tokens reaching the caller.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="rows"/> does not hold one flag per row.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    void MaskExceptArgMax(LogitBatch x, ReadOnlySpan<bool> rows, LogitBatch destination);

    /// <summary>Writes <c>destination[r, tokenIds[r, j]] = values[r, j]</c> in place; for a repeated id the last value wins.</summary>
    /// <param name="destination">The logits to update.</param>
    /// <param name="tokenIds">Row-major ids, <c>Rows * n</c> of them; negative ids are padding and skipped.</param>
    /// <param name="values">Same length as <paramref name="tokenIds"/>; finite or <c>-∞</c>.</param>
    /// <remarks>
    /// The one kernel that may turn <c>-∞</c> back into a finite value: forced tokens (forced BOS/EOS) and
    /// allow-lists (gather the allowed values, mask the row, scatter them back) are built on it.
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths do not fit the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <c>Vocab</c>, or a value is NaN or <c>+∞</c>.</exception>
    void Scatter(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> values);

    /// <summary>Samples one token per row from <c>softmax(x)</c> by inverse CDF with the given uniforms.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="uniforms">One <c>u ∈ [0, 1)</c> per row.</param>
    /// <param name="destination">One token id per row.</param>
    /// <remarks>
    /// With <c>w_i = exp(z_i - m)</c> and <c>S = Σ w</c>, returns the smallest <c>i</c> (scanning ascending
    /// ids) with <c>u·S &lt; C_i = Σ_{j≤i} w_j</c>, <c>C</c> accumulated in float64 (docs/algorithms/selection.md#multinomial).
    /// A token with <c>w = 0</c> is never returned: if rounding leaves <c>u·S ≥ C_last</c>, the last
    /// index with <c>w &gt; 0</c> is returned.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A uniform is outside <c>[0, 1)</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c>.</exception>
    void Sample(LogitBatch x, ReadOnlySpan<double> uniforms, Span<int> destination);

    /// <summary>Gumbel-max sampling: per row, the finite token with the largest <c>z_i - ln(-ln u_i)</c>, one open uniform per finite token.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="streams">At least <see cref="LogitBatch.Rows"/> random streams; row <c>r</c> draws from <c>streams[r]</c>.</param>
    /// <param name="destination">One token id per row.</param>
    /// <remarks>
    /// Row <c>r</c> draws <c>u_i</c> with <see cref="RandomSourceExtensions.NextOpenDouble"/> from <c>streams[r]</c>, one per
    /// finite entry in ascending id order (removed tokens draw nothing), so each stream advances by exactly the row's
    /// number of finite entries and a backend that draws ahead (to keep the row on its device) gives the same tokens.
    /// The scores are float64; ties go to the lowest id (docs/algorithms/selection.md#gumbel).
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="streams"/> or one of the first <c>Rows</c> streams is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="streams"/> has fewer than <c>Rows</c> streams.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c> (stage <c>"gumbel"</c>).</exception>
    void SampleGumbel(LogitBatch x, IReadOnlyList<IRandomSource> streams, Span<int> destination);

    /// <summary>
    /// Samples one token per row among its <c>k</c> largest, <c>k</c> estimated from the row's Zipf exponent and a target
    /// surprise (Mirostat 1.0's truncation), and returns the token's renormalised probability with it.
    /// </summary>
    /// <param name="x">The logits.</param>
    /// <param name="mu">Per row, in bits, not NaN (<c>μ</c>).</param>
    /// <param name="m">At least 2: the number of top probabilities the Zipf exponent is estimated from.</param>
    /// <param name="nVocab">At least 1: the vocabulary size <c>N</c> of the estimate (at 1 the estimate is not finite, so
    /// every finite token is kept).</param>
    /// <param name="uniforms">One <c>u ∈ [0, 1)</c> per row.</param>
    /// <param name="destination">One token id per row.</param>
    /// <param name="probabilities">Per row, the probability of the chosen token renormalised over the kept set.</param>
    /// <remarks>
    /// With the finite logits sorted descending <c>s_1 ≥ s_2 ≥ …</c>, <c>q_i = exp(s_i - lse)</c> in float64 and
    /// <c>t_i = ln((i+1)/i)</c>, <c>b_i = ln(q_i / q_(i+1))</c> over the pairs <c>i &lt; min(m, |F|)</c> with both
    /// probabilities above 0: <c>ŝ = Σ t_i b_i / Σ t_i²</c>, <c>ε̂ = ŝ - 1</c> and
    /// <c>k = (ε̂·2^μ / (1 - N^(-ε̂)))^(1/ŝ)</c> (<c>2^μ / ln N</c> for <c>|ε̂| &lt; 1e-6</c>); a <c>k</c> that is not finite (no
    /// usable pair, <c>ŝ ≤ 0</c>) becomes <c>|F|</c>. The kept set is <c>z_i ≥ s_K</c>, <c>K = clamp(⌊k⌋, 1, |F|)</c>, and the
    /// draw is <see cref="SampleWithinSurprise"/>'s (docs/algorithms/selection.md#mirostat-v1). The probability is what
    /// Mirostat's <c>μ</c> update needs, so a device backend returns both in one host read.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A <c>μ</c> is NaN, <paramref name="m"/> is below 2, <paramref name="nVocab"/>
    /// is below 1, or a uniform is outside <c>[0, 1)</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c> (stage <c>"mirostat"</c>).</exception>
    void SampleEstimatedTopK(LogitBatch x, ReadOnlySpan<double> mu, int m, int nVocab, ReadOnlySpan<double> uniforms, Span<int> destination, Span<double> probabilities);

    /// <summary>
    /// Samples one token per row among the tokens whose surprise <c>-log₂ p_i</c> is at most <c>maxSurprise[r]</c> bits
    /// (Mirostat 2.0's truncation), and returns the token's renormalised probability with it.
    /// </summary>
    /// <param name="x">The logits.</param>
    /// <param name="maxSurprise">Per row, in bits, not NaN (<c>μ</c>).</param>
    /// <param name="uniforms">One <c>u ∈ [0, 1)</c> per row.</param>
    /// <param name="destination">One token id per row.</param>
    /// <param name="probabilities">Per row, the probability of the chosen token renormalised over the kept set.</param>
    /// <remarks>
    /// With <c>p = softmax(z)</c> in float64 (<c>lse</c> the row's log-sum-exp), the kept set is <c>z_i ≥ c</c>, <c>c</c> the
    /// smallest finite <c>z_i</c> with <c>-(z_i - lse)/ln 2 ≤ maxSurprise</c>, or the row maximum when there is none (the
    /// top tie group). The draw is the inverse-CDF rule of <see cref="Sample"/> over the kept set with float64 weights
    /// <c>exp(z_i - m)</c> (docs/algorithms/selection.md#mirostat-v2). The probability is what Mirostat's <c>μ</c> update
    /// needs, so a device backend returns both in one host read.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A limit is NaN, or a uniform is outside <c>[0, 1)</c>.</exception>
    /// <exception cref="InvalidLogitsException">An entry is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row is all <c>-∞</c> (stage <c>"mirostat"</c>).</exception>
    void SampleWithinSurprise(LogitBatch x, ReadOnlySpan<double> maxSurprise, ReadOnlySpan<double> uniforms, Span<int> destination, Span<double> probabilities);
}
