
namespace Logits.Processing.Warping;

/// <summary>Dynamic (entropy-based) temperature: a temperature between <c>T0 − Δ</c> and <c>T0 + Δ</c> chosen by the row's normalised entropy.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/warping.md#dynamic-temperature; llama.cpp <c>temp_ext</c>, citing Zhu et al., arXiv 2309.02772): a no-op when
/// <c>|F| ≤ 1</c>. Otherwise <c>Hn = H / ln|F|</c> (entropy over the finite tokens, float64, on the host),
/// <c>lo = max(0, T0 − Δ)</c>, <c>T = lo + (T0 + Δ − lo)·Hn^Exponent</c>, then Temperature(<c>T</c>) is applied with
/// its greedy rule: <c>T &lt; 1e-5</c> (including <c>T ≤ 0</c>) keeps only the maximum (lowest index on ties).</para>
/// <para>Confident (low-entropy) rows are sharpened towards <c>lo</c>; flat rows are flattened towards <c>T0 + Δ</c>.
/// <c>Δ = 0</c> is plain temperature <c>T0</c>. Argmax-invariant.</para>
/// </remarks>
public sealed class DynamicTemperatureProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="temperature">The centre temperature <c>T0</c>, finite (below 1e-5: greedy), for every row or per row.</param>
    /// <param name="delta">The range <c>Δ ≥ 0</c>, finite, for every row or per row.</param>
    /// <param name="exponent">The exponent applied to the normalised entropy, finite and greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A temperature is not finite, a Δ is negative or not finite, or
    /// <paramref name="exponent"/> is not finite and positive.</exception>
    public DynamicTemperatureProcessor(PerRow<double> temperature, PerRow<double> delta, double exponent = 1.0)
        : base(RowMaximaUse.None)
    {
        foreach (double t in temperature.Values())
        {
            if (!double.IsFinite(t))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(temperature), t, "must be finite (values below 1e-5 mean greedy)");
            }
        }

        foreach (double d in delta.Values())
        {
            if (!(d >= 0) || !double.IsFinite(d))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(delta), d, "must be finite and at least 0");
            }
        }

        if (!(exponent > 0) || !double.IsFinite(exponent))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(exponent), exponent, "must be finite and greater than 0");
        }

        Temperature = PerRowParameter(temperature);
        Delta = PerRowParameter(delta);
        Exponent = exponent;
    }

    /// <summary>The centre temperature <c>T0</c>, for every row or per row.</summary>
    public PerRow<double> Temperature { get; }

    /// <summary>The range <c>Δ</c>, for every row or per row.</summary>
    public PerRow<double> Delta { get; }

    /// <summary>The exponent applied to the normalised entropy.</summary>
    public double Exponent { get; }

    /// <inheritdoc />
    public override string Name => "dynamic-temperature";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <summary>The temperature for a row of normalised entropy <paramref name="normalizedEntropy"/>.</summary>
    internal static double TemperatureFor(double t0, double delta, double exponent, double normalizedEntropy)
    {
        double lo = Math.Max(0, t0 - delta);
        return lo + ((t0 + delta - lo) * Math.Pow(normalizedEntropy, exponent));
    }

    /// <inheritdoc />
    /// <remarks>One <see cref="ILogitKernels.ScaleByEntropy"/> call: the entropies and temperatures stay on the batch's backend.</remarks>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        var minimum = LogitProcessorBuffers.RentDoubles(rows);
        var range = LogitProcessorBuffers.RentDoubles(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                // T = lo + (T0 + δ - lo)·(H/ln|F|)^κ, lo = max(0, T0 - δ): the arithmetic of TemperatureFor.
                double t0 = Temperature.For(logits.RowOffset + r);
                double delta = Delta.For(logits.RowOffset + r);
                minimum[r] = Math.Max(0, t0 - delta);
                range[r] = t0 + delta - minimum[r];
            }

            logits.Kernels.ScaleByEntropy(logits, minimum.AsSpan(0, rows), range.AsSpan(0, rows), Exponent, TemperatureProcessor.GreedyThreshold, logits);
        }
        finally
        {
            LogitProcessorBuffers.Return(minimum);
            LogitProcessorBuffers.Return(range);
        }
    }
}
