using Logits.Processing;
using Logits.Randomness;

namespace Logits.Diffusion;

/// <summary>
/// RADD's τ-leaping sampler for absorbing discrete diffusion, with output caching: the time-independent denoiser is called
/// only in steps that reveal a token of a sequence whose cached output is stale.
/// </summary>
/// <remarks>
/// <para>
/// Grid: library times <c>t_k = k(1 − δ)/n</c>, <c>k = 0…n</c> (τ_k = 1 − t_k). Step k runs in two stages
/// (docs/algorithms/discrete-diffusion.md#reverse-step, docs/algorithms/discrete-diffusion.md#caching-and-nfe): (1) <b>reveal</b>: one open uniform per position masked at the start of the step, in
/// ascending position order; position i is revealed when <c>U_i &lt; r_k</c>, with <c>r_k</c> the schedule's Tweedie or Euler
/// rate (log-linear: <c>Δτ/τ</c>) and <c>r = 1</c> on the last step; (2) <b>tokens</b>: for each revealed position in
/// ascending order, an exponential race over the finite entries of its (processed) denoiser row, one uniform per entry in
/// ascending token id. The joint law equals the one-stage draw over {y: r·c(y|x), stay: 1 − r}.
/// </para>
/// <para>
/// <b>Caching</b> (library decision, lazy rule): per sequence, the network is called at step k only if at least one position
/// is revealed at k and the cached output is stale (none yet, or the sequence changed since the cached call); comparisons
/// are exact on token ids. The call happens between the stages and draws nothing, so cached and uncached runs consume the
/// same uniforms and return identical sequences. NFE then equals the number of steps with a reveal, and its mean is
/// <see cref="RaddNfe.Expected(int, int)"/>. Without caching every sequence is evaluated every step (NFE = n).
/// The official code evaluates eagerly after every changed step; its counter reports the lazy count used here.
/// </para>
/// <para>
/// <b>Processors</b> (e.g. temperature, top-k, top-p from <c>Logits.Processing</c>) are applied, in order, to the denoiser's
/// per-position rows right after each call, before caching; they see one row per position with an empty history, so they
/// must not depend on the history. The mask token is never drawn: the rows cover real tokens only.
/// </para>
/// <para>Source: Ou et al., RADD, arXiv 2406.03736; official repository ML-GSAI/RADD.</para>
/// </remarks>
public sealed class RaddSampler
{
    private static readonly ILogitProcessor[] NoProcessors = Array.Empty<ILogitProcessor>();
    private readonly ILogitProcessor[] _processors;
    private readonly double[] _rates;

    /// <summary>Creates the sampler.</summary>
    /// <param name="steps">n, in <c>[1, 2³⁰]</c>.</param>
    /// <param name="schedule">The masking schedule; <see langword="null"/> for <see cref="LogLinearSchedule"/> with ε = 1e-3.</param>
    /// <param name="method">The reveal rate: Tweedie (default) or Euler.</param>
    /// <param name="gridEndOffset">δ in <c>[0, 1)</c>; 0 (library default) makes every log-linear reveal probability exactly 1/n; 1e-5 is the official grid.</param>
    /// <param name="caching">Whether to reuse the denoiser output while a sequence is unchanged (default on).</param>
    /// <param name="processors">Processors applied to the per-position rows after each call; none by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter outside its range, or an undefined <paramref name="method"/>.</exception>
    public RaddSampler(int steps, MaskingSchedule? schedule = null, RaddUpdate method = RaddUpdate.Tweedie, double gridEndOffset = 0.0, bool caching = true, IEnumerable<ILogitProcessor>? processors = null)
    {
        if (steps < 1 || steps > (1 << 30))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), steps, "must be in [1, 2^30]");
        }

        if (method is not RaddUpdate.Tweedie and not RaddUpdate.Euler)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(method), method, "must be Tweedie or Euler");
        }

        GridEndOffset = Require.FractionBelowOne(gridEndOffset, nameof(gridEndOffset));

        Steps = steps;
        Schedule = schedule ?? new LogLinearSchedule();
        Method = method;
        Caching = caching;
        _processors = processors is null ? NoProcessors : new List<ILogitProcessor>(processors).ToArray();
        foreach (var p in _processors)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(processors));
        }

        _rates = new double[steps];
        for (int k = 0; k < steps - 1; k++)
        {
            _rates[k] = Schedule.RevealRate(Time(k), Time(k + 1), method);
        }

        // The last step fills every remaining mask (the official code uses 1 + 1e-3 for the same effect).
        _rates[steps - 1] = 1.0;
    }

    /// <summary>The number of steps n.</summary>
    public int Steps { get; }

    /// <summary>The masking schedule.</summary>
    public MaskingSchedule Schedule { get; }

    /// <summary>The reveal-rate method.</summary>
    public RaddUpdate Method { get; }

    /// <summary>The grid end offset δ.</summary>
    public double GridEndOffset { get; }

    /// <summary>Whether the denoiser output is reused while a sequence is unchanged.</summary>
    public bool Caching { get; }

    /// <summary>The processors applied to each denoiser output.</summary>
    public IReadOnlyList<ILogitProcessor> Processors => _processors;

    /// <summary>The library time <c>t_k = k(1 − δ)/n</c> of grid point <paramref name="k"/>.</summary>
    /// <param name="k">In <c>[0, n]</c>.</param>
    /// <returns>The time.</returns>
    public double Time(int k) => k * (1.0 - GridEndOffset) / Steps;

    /// <summary>The reveal rates r_k of the n steps (the last one is 1).</summary>
    /// <returns>A copy.</returns>
    public double[] RevealRates() => (double[])_rates.Clone();

    /// <summary>The probability that a token masked at the start is revealed at each step: <c>p_k = r_k Π_{j&lt;k}(1 − r_j)</c>.</summary>
    /// <returns>n probabilities summing to 1 (log-linear, δ = 0: all 1/n).</returns>
    public double[] RevealProbabilities()
    {
        var p = new double[Steps];
        double survive = 1.0;
        for (int k = 0; k < Steps; k++)
        {
            p[k] = survive * _rates[k];
            survive *= 1.0 - _rates[k];
        }

        return p;
    }

    /// <summary>Samples <paramref name="sequences"/> sequences of <paramref name="length"/> tokens from all-masked, seeded per sequence.</summary>
    /// <param name="denoiser">The time-independent denoiser.</param>
    /// <param name="sequences">The batch size, at least 1.</param>
    /// <param name="length">L, at least 1.</param>
    /// <param name="seed">Sequence b draws from <c>Xoshiro256StarStar.ForRow(seed, b)</c>.</param>
    /// <returns>The sequences, reveal log and NFE.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequences"/> or <paramref name="length"/> below 1.</exception>
    public DiffusionResult Sample(ITimeIndependentDenoiser denoiser, int sequences, int length, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        Require.AtLeast(length, 1, nameof(length));
        Require.AtLeast(sequences, 1, nameof(sequences));

        var initial = new int[checked(sequences * length)];
        Array.Fill(initial, denoiser.MaskId);
        return Run(denoiser, initial, sequences, UniformStream.FromSeed(seed, sequences));
    }

    /// <summary>Fills the masked positions of <paramref name="initial"/> (infilling / prompting), seeded per sequence.</summary>
    /// <param name="denoiser">The time-independent denoiser.</param>
    /// <param name="initial"><c>sequences × L</c> ids: real tokens are kept, mask ids are sampled.</param>
    /// <param name="sequences">The batch size.</param>
    /// <param name="seed">Sequence b draws from <c>Xoshiro256StarStar.ForRow(seed, b)</c>.</param>
    /// <returns>The sequences, reveal log and NFE.</returns>
    /// <exception cref="ArgumentException"><paramref name="initial"/> is not a multiple of <paramref name="sequences"/> or holds an id that is neither real nor the mask.</exception>
    public DiffusionResult Sample(ITimeIndependentDenoiser denoiser, ReadOnlySpan<int> initial, int sequences, ulong seed) =>
        Run(denoiser, Validated(denoiser, initial, sequences), sequences, UniformStream.FromSeed(seed, sequences));

    /// <summary>As the seeded overload, drawing sequence b's uniforms from <paramref name="streams"/>[b].</summary>
    /// <param name="denoiser">The time-independent denoiser.</param>
    /// <param name="initial"><c>sequences × L</c> ids.</param>
    /// <param name="streams">One stream per sequence.</param>
    /// <returns>The sequences, reveal log and NFE.</returns>
    /// <exception cref="ArgumentException">The stream count differs from the number of sequences, or invalid ids.</exception>
    public DiffusionResult Sample(ITimeIndependentDenoiser denoiser, ReadOnlySpan<int> initial, IReadOnlyList<IRandomSource> streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        int sequences = streams.Count;
        return Run(denoiser, Validated(denoiser, initial, sequences), sequences, UniformStream.FromSources(streams, sequences));
    }

    /// <summary>As the seeded overload, reading sequence b's uniforms from <paramref name="uniforms"/>[b] value for value (in the order above).</summary>
    /// <param name="denoiser">The time-independent denoiser.</param>
    /// <param name="initial"><c>sequences × L</c> ids.</param>
    /// <param name="uniforms">One span per sequence: step 0's reveal uniforms, step 0's race uniforms, step 1's, …; extra values are ignored.</param>
    /// <returns>The sequences, reveal log and NFE.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value outside <c>(0, 1)</c>.</exception>
    /// <exception cref="ArgumentException">A span runs out, the span count differs from the number of sequences, or invalid ids.</exception>
    public DiffusionResult Sample(ITimeIndependentDenoiser denoiser, ReadOnlySpan<int> initial, IReadOnlyList<ReadOnlyMemory<double>> uniforms)
    {
        ArgumentNullException.ThrowIfNull(uniforms);
        int sequences = uniforms.Count;
        return Run(denoiser, Validated(denoiser, initial, sequences), sequences, UniformStream.FromValues(uniforms, sequences));
    }

    internal static int[] Validated(ITimeIndependentDenoiser denoiser, ReadOnlySpan<int> initial, int sequences)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        CheckDenoiser(denoiser);
        DiffusionMath.CheckTokens(initial, sequences, denoiser.Vocabulary, denoiser.MaskId, nameof(initial));
        return initial.ToArray();
    }

    internal static void CheckDenoiser(ITimeIndependentDenoiser denoiser)
    {
        if (denoiser.Vocabulary < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(denoiser), denoiser.Vocabulary, "must report a vocabulary of at least 1 real token");
        }

        if (denoiser.MaskId >= 0 && denoiser.MaskId < denoiser.Vocabulary)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(denoiser), denoiser.MaskId, $"must use a mask id outside the real tokens [0, {denoiser.Vocabulary})");
        }
    }

    private DiffusionResult Run(ITimeIndependentDenoiser denoiser, int[] tokens, int sequences, UniformStream[] uniforms)
    {
        CheckDenoiser(denoiser);
        int length = tokens.Length / sequences;
        int maskId = denoiser.MaskId;
        var cache = new DenoiserCache(denoiser, _processors, sequences, length);
        var revealSteps = new int[tokens.Length];
        Array.Fill(revealSteps, -1);

        // Positions revealed in the current step, sequence-major; -2 marks "revealed now" in the reveal log until drawn.
        var revealed = new int[tokens.Length];
        var revealedCount = new int[sequences];
        for (int k = 0; k < Steps; k++)
        {
            double rate = _rates[k];
            for (int b = 0; b < sequences; b++)
            {
                int offset = b * length;
                int count = 0;
                UniformStream u = uniforms[b];
                for (int i = 0; i < length; i++)
                {
                    if (tokens[offset + i] == maskId && revealSteps[offset + i] == -1 && u.Next() < rate)
                    {
                        revealed[offset + count++] = i;
                    }
                }

                revealedCount[b] = count;
                if (Caching ? count > 0 && cache.IsStale(b) : true)
                {
                    cache.Request(b);
                }
            }

            cache.Flush(tokens);
            for (int b = 0; b < sequences; b++)
            {
                int offset = b * length;
                UniformStream u = uniforms[b];
                for (int j = 0; j < revealedCount[b]; j++)
                {
                    int i = revealed[offset + j];
                    int y = DiffusionMath.Race(cache.Row(b, i), u);
                    if (y < 0)
                    {
                        ThrowHelper.ThrowNoViableToken(offset + i, "RADD token draw");
                    }

                    tokens[offset + i] = y;
                    revealSteps[offset + i] = k;
                }

                if (revealedCount[b] > 0)
                {
                    cache.Invalidate(b);
                }
            }
        }

        return new DiffusionResult(tokens, sequences, length, revealSteps, cache.Evaluations);
    }
}
