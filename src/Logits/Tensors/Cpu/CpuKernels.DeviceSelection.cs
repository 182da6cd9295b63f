using Logits.Randomness;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>Row by row on the caller's thread (the streams are sequential); one uniform per finite entry, drawn lazily.</remarks>
    public void SampleGumbel(LogitBatch x, IReadOnlyList<IRandomSource> streams, Span<int> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        // A row block (see Pipelines.RowBlocks) draws from the streams of its rows in the whole batch.
        int first = source.RowOffset;
        ValidateStreams(streams, first + source.Rows);
        var data = source.Storage.Span;
        for (int r = 0; r < source.Rows; r++)
        {
            destination[r] = GumbelRow(data.Slice(r * source.Vocab, source.Vocab), streams[first + r], r);
        }
    }

    /// <summary>The streams argument of <see cref="SampleGumbel"/>: at least one non-null stream per row.</summary>
    internal static void ValidateStreams(IReadOnlyList<IRandomSource> streams, int rows)
    {
        ArgumentNullException.ThrowIfNull(streams);
        if (streams.Count < rows)
        {
            ThrowHelper.ThrowArgument(nameof(streams), $"has {streams.Count} streams but the batch has {rows} rows; one per row is required.");
        }

        for (int r = 0; r < rows; r++)
        {
            if (streams[r] is null)
            {
                throw new ArgumentNullException(nameof(streams), $"The stream of row {r} is null.");
            }
        }
    }

    /// <summary>Gumbel-max over one row: the finite token with the largest <c>z - ln(-ln u)</c>, one uniform per finite token.</summary>
    internal static int GumbelRow(ReadOnlySpan<float> row, IRandomSource random, int rowIndex)
    {
        int best = -1;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < row.Length; i++)
        {
            float z = row[i];
            if (!(z < float.PositiveInfinity))
            {
                ThrowHelper.ThrowInvalidLogits(rowIndex, i, z, "input");
            }

            if (float.IsNegativeInfinity(z))
            {
                continue;
            }

            // z + Gumbel noise; the score is compared in float64, ties keep the lower id.
            double e = -Math.Log(random.NextOpenDouble());
            double score = z - Math.Log(e);
            if (best < 0 || score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        if (best < 0)
        {
            ThrowHelper.ThrowNoViableToken(rowIndex, "gumbel");
        }

        return best;
    }

    /// <inheritdoc />
    /// <remarks>Row by row on the host: a checking pass, the float64 log-sum-exp, the cutoff, then the kept-set draw.</remarks>
    public void SampleWithinSurprise(LogitBatch x, ReadOnlySpan<double> maxSurprise, ReadOnlySpan<double> uniforms, Span<int> destination, Span<double> probabilities)
    {
        var source = AsCpu(x, nameof(x));
        ValidateSurpriseSampling(source.Rows, maxSurprise, uniforms, destination.Length, probabilities.Length);
        var data = source.Storage.Span;
        for (int r = 0; r < source.Rows; r++)
        {
            var row = data.Slice(r * source.Vocab, source.Vocab);
            RowMath.CheckedMax(row, r);
            double cutoff = SurpriseCutoff(row, maxSurprise[r], r);
            destination[r] = DrawAtOrAbove(row, cutoff, uniforms[r], out probabilities[r]);
        }
    }

    /// <summary>The argument checks of <see cref="SampleWithinSurprise"/> (shared with the torch backend).</summary>
    internal static void ValidateSurpriseSampling(int rows, ReadOnlySpan<double> maxSurprise, ReadOnlySpan<double> uniforms, int destinationLength, int probabilitiesLength)
    {
        EnsurePerRow(rows, maxSurprise.Length, nameof(maxSurprise));
        EnsurePerRow(rows, uniforms.Length, nameof(uniforms));
        EnsurePerRow(rows, destinationLength, "destination");
        EnsurePerRow(rows, probabilitiesLength, "probabilities");
        for (int r = 0; r < rows; r++)
        {
            if (double.IsNaN(maxSurprise[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(maxSurprise), maxSurprise[r], $"must not be NaN (row {r})");
            }

            if (!(uniforms[r] >= 0 && uniforms[r] < 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(uniforms), uniforms[r], $"must be in [0, 1) (row {r})");
            }
        }
    }

    /// <summary>
    /// The smallest finite value whose surprise <c>-(z - lse)/ln 2</c> is at most <paramref name="maxSurprise"/> bits, or the
    /// row maximum when none is (a checked row; an empty one throws with stage <c>"mirostat"</c>).
    /// </summary>
    internal static double SurpriseCutoff(ReadOnlySpan<float> row, double maxSurprise, int rowIndex)
    {
        double max = double.NegativeInfinity;
        foreach (float z in row)
        {
            max = Math.Max(max, z);
        }

        if (double.IsNegativeInfinity(max))
        {
            ThrowHelper.ThrowNoViableToken(rowIndex, "mirostat");
        }

        double sum = 0;
        foreach (float z in row)
        {
            sum += Math.Exp(z - max);
        }

        double lse = max + Math.Log(sum);
        double cutoff = double.PositiveInfinity;
        foreach (float z in row)
        {
            if (!float.IsNegativeInfinity(z) && -(z - lse) / Ln2 <= maxSurprise)
            {
                cutoff = Math.Min(cutoff, z);
            }
        }

        return double.IsPositiveInfinity(cutoff) ? max : cutoff;
    }

    /// <summary>ln 2, the bits-to-nats factor of Mirostat's surprise.</summary>
    internal const double Ln2 = 0.69314718055994530942;

    /// <summary>
    /// Inverse CDF over the entries at or above <paramref name="cutoff"/> with float64 weights <c>exp(z - m)</c> in ascending
    /// id order: the first index whose running sum exceeds <c>u·S</c>, else the last with weight; also its renormalised
    /// probability.
    /// </summary>
    internal static int DrawAtOrAbove(ReadOnlySpan<float> row, double cutoff, double u, out double probability)
    {
        double sum = Logits.Selection.MirostatMath.KeptSum(row, cutoff, out float max);
        double target = u * sum;
        double cumulative = 0;
        int last = -1;
        double lastWeight = 0;
        for (int i = 0; i < row.Length; i++)
        {
            float z = row[i];
            if (!(z >= cutoff))
            {
                continue;
            }

            double w = Math.Exp((double)z - max);
            if (w <= 0)
            {
                continue;
            }

            cumulative += w;
            last = i;
            lastWeight = w;
            if (target < cumulative)
            {
                probability = w / sum;
                return i;
            }
        }

        probability = lastWeight / sum;
        return last;
    }
}
