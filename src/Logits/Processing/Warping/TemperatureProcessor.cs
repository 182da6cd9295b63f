
namespace Logits.Processing.Warping;

/// <summary>Temperature: divides logits by <c>T</c>; below <see cref="GreedyThreshold"/> it keeps only the argmax.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/warping.md#temperature): if <c>T &lt; 1e-5</c> (including <c>T ≤ 0</c>, as llama.cpp treats
/// negative temperatures), keep only the maximum (lowest index on ties) at its value and set all others
/// to <c>-∞</c>; otherwise <c>z_i ← z_i / T</c>, computed as a multiplication by <c>1/T</c>.</para>
/// <para>Argmax-invariant. Per-row temperatures are allowed.</para>
/// </remarks>
public sealed class TemperatureProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>The greedy cut-off <c>T_ε = 1e-5</c> (vLLM's value).</summary>
    public const double GreedyThreshold = 1e-5;

    /// <summary>Creates the processor.</summary>
    /// <param name="temperature">Finite temperature(s); values below 1e-5 mean greedy.</param>
    /// <exception cref="ArgumentOutOfRangeException">A temperature is NaN or infinite.</exception>
    public TemperatureProcessor(PerRow<double> temperature)
        : base(RowMaximaUse.None)
    {
        foreach (double t in temperature.Values())
        {
            if (!double.IsFinite(t))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(temperature), t, "must be finite (values below 1e-5 mean greedy)");
            }
        }

        Temperature = PerRowParameter(temperature);
    }

    /// <summary>The temperature, for every row or per row.</summary>
    public PerRow<double> Temperature { get; }

    /// <inheritdoc />
    public override string Name => "temperature";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        var factors = LogitProcessorBuffers.RentFloats(rows);
        var greedyRows = LogitProcessorBuffers.RentInts(rows);
        try
        {
            bool anyGreedy = false;
            bool anyScaled = false;
            for (int r = 0; r < rows; r++)
            {
                double t = Temperature.For(logits.RowOffset + r);
                bool greedy = t < GreedyThreshold;
                greedyRows[r] = greedy ? 1 : 0;
                anyGreedy |= greedy;
                anyScaled |= !greedy && t != 1.0;
                factors[r] = greedy ? 1f : (float)(1.0 / t);
            }

            if (anyScaled)
            {
                logits.Kernels.Scale(logits, factors.AsSpan(0, rows), logits);
            }

            if (anyGreedy)
            {
                KeepOnlyArgMax(logits, greedyRows);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(factors);
            LogitProcessorBuffers.Return(greedyRows);
        }
    }

    /// <summary>Temperature's greedy rule for the rows flagged in <paramref name="greedy"/>: keep the argmax at its value.</summary>
    /// <remarks>One mask kernel, which leaves an all-<c>-∞</c> row as it is (so no empty-row guard is needed).</remarks>
    internal static void KeepOnlyArgMax(LogitBatch logits, int[] greedy)
    {
        int rows = logits.Rows;
        var flags = System.Buffers.ArrayPool<bool>.Shared.Rent(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                flags[r] = greedy[r] != 0;
            }

            logits.Kernels.MaskExceptArgMax(logits, flags.AsSpan(0, rows), logits);
        }
        finally
        {
            System.Buffers.ArrayPool<bool>.Shared.Return(flags);
        }
    }
}
