using Logits.Randomness;

namespace Logits.Selection;

/// <summary>Exponential race (Gumbel-max): <c>argmax (z_i - ln E_i)</c> with <c>E_i = -ln U_i</c>.</summary>
/// <remarks>
/// Rule (docs/algorithms/selection.md#exponential-race-gumbel-max): draw an open uniform <c>U_i</c> for each finite token in ascending id order,
/// then return <c>argmax (z_i - ln E_i)</c> (= <c>argmax p_i / E_i</c>), ties to the lowest id. This samples
/// exactly from <c>softmax(z)</c> without normalising, at the cost of <c>|F|</c> uniforms per row; rows are
/// read to the host, so both backends give the same token for the same seed. Stateful like
/// <see cref="MultinomialSelector"/>.
/// </remarks>
public sealed class GumbelSelector : SeededSelector
{

    /// <summary>Creates the selector.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    public GumbelSelector(ulong seed)
        : base(seed)
    {
    }

    /// <inheritdoc />
    public override string Name => "gumbel";

    /// <inheritdoc />
    private protected override void SelectCore(LogitBatch logits, Span<int> destination)
    {
        int rows = logits.Rows;
        for (int r = 0; r < rows; r++)
        {
            var row = ReadRow(logits, r);
            destination[r] = SelectRow(row, Stream(r), r);
        }
    }

    /// <summary>The exponential race over one row; the scores are computed in float64.</summary>
    internal static int SelectRow(ReadOnlySpan<float> row, IRandomSource random, int rowIndex)
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
    private protected override SeededSelector CreateCopy() => new GumbelSelector(Seed);
}
