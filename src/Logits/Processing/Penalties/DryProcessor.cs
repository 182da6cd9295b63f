
namespace Logits.Processing.Penalties;

/// <summary>DRY ("Don't Repeat Yourself"): penalises a token that would extend a repeat of the history's end, exponentially in the repeat's length.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/penalties.md#dry; text-generation-webui PR #5677, also llama.cpp and koboldcpp), over the
/// window <c>h_1 … h_n</c>:</para>
/// <list type="number">
/// <item>If <c>n &lt; 2</c> or <c>h_n</c> is a sequence breaker, do nothing.</item>
/// <item>For every <c>j &lt; n</c> with <c>h_j = h_n</c>, let <c>t = h_{j+1}</c>; skip <c>j</c> if <c>t</c> is a breaker.</item>
/// <item><c>L</c> = the largest <c>L ≥ 1</c> with <c>h_{j−r} = h_{n−r}</c> for all <c>0 ≤ r &lt; L</c>, no compared
/// token a breaker and <c>j − L + 1 ≥ 1</c>. The match may overlap itself (<c>[5,5,5,5]</c> gives <c>L = 3</c>).</item>
/// <item><c>L_t</c> = the maximum <c>L</c> over such <c>j</c>; for every <c>t</c> with <c>L_t ≥ AllowedLength</c>:
/// <c>z_t ← z_t − Multiplier·Base^(L_t − AllowedLength)</c>.</item>
/// </list>
/// <para>Overflow guard: the exponent is capped at <see cref="MaxExponent"/> <c>= ⌊88.72 / ln Base⌋</c> when
/// <c>Base &gt; 1</c> (as llama.cpp; the original caps the match length at 50); with <c>Base = 1</c> the penalty is
/// the constant <c>Multiplier</c>. The penalty and the result are evaluated in float64; a result below
/// <c>-float.MaxValue</c> becomes <c>-∞</c> (the token is banned). <c>-∞</c> stays <c>-∞</c>.</para>
/// <para>Complexity: the match lengths of all <c>j</c> come from one Z-function over the reversed window, <c>O(n)</c>
/// per step, as llama.cpp computes them. Compared tokens are equal, so a match stops at a breaker exactly when
/// it reaches the trailing run of non-breakers of the window: <c>L = min(Z, that run's length)</c>.</para>
/// <para>The window is the whole history (prompt included) or its last <see cref="Window"/> non-padding tokens;
/// padding (negative ids) is removed first (library decision: a padded history matches as if unpadded). A history
/// id ≥ V inside the window throws <see cref="ArgumentOutOfRangeException"/>; so does a breaker ≥ V on first use.
/// The core has no tokenizer: breakers are single token ids (upstream defaults are the strings newline,
/// <c>:</c>, <c>"</c>, <c>*</c>). Stateless: the window is rescanned every step. Not argmax-invariant.</para>
/// </remarks>
public sealed class DryProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>The constant of the exponent cap, <c>≈ ln(float.MaxValue)</c>.</summary>
    public const double ExponentCapNumerator = 88.72;

    private readonly int[] _breakers;

    /// <summary>Creates the processor.</summary>
    /// <param name="multiplier">Multiplier ≥ 0 (0 = off), finite, for every row or per row.</param>
    /// <param name="base">Base ≥ 1, finite (default 1.75).</param>
    /// <param name="allowedLength">AllowedLength ≥ 1 (default 2): the longest repeat that goes unpenalised is one shorter.</param>
    /// <param name="window"><c>-1</c> for the whole history, or the number N ≥ 1 of last tokens read.</param>
    /// <param name="sequenceBreakers">Token ids that no match may cross (default none); copied.</param>
    /// <exception cref="ArgumentOutOfRangeException">A number is outside its range.</exception>
    /// <exception cref="ArgumentException"><paramref name="sequenceBreakers"/> holds a negative id.</exception>
    public DryProcessor(PerRow<double> multiplier, double @base = 1.75, int allowedLength = 2, int window = -1, IEnumerable<int>? sequenceBreakers = null)
        : base(RowMaximaUse.None)
    {
        foreach (double value in multiplier.Values())
        {
            if (!(value >= 0) || !double.IsFinite(value))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(multiplier), value, "must be finite and at least 0 (0 = off)");
            }
        }

        if (!(@base >= 1) || !double.IsFinite(@base))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(@base), @base, "must be finite and at least 1");
        }

        if (allowedLength < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(allowedLength), allowedLength, "must be at least 1");
        }

        var breakers = new List<int>();
        if (sequenceBreakers is not null)
        {
            foreach (int id in sequenceBreakers)
            {
                if (id < 0)
                {
                    ThrowHelper.ThrowArgument(nameof(sequenceBreakers), $"holds the negative id {id}.");
                }

                breakers.Add(id);
            }
        }

        breakers.Sort();
        _breakers = Distinct(breakers);
        Multiplier = PerRowParameter(multiplier);
        Base = @base;
        AllowedLength = allowedLength;
        Window = PenaltyHistory.ValidateWindow(window, nameof(window));
        double cap = @base > 1 ? Math.Floor(ExponentCapNumerator / Math.Log(@base)) : double.PositiveInfinity;
        MaxExponent = cap >= int.MaxValue ? int.MaxValue : (int)cap;
    }

    /// <summary>The multiplier, for every row or per row.</summary>
    public PerRow<double> Multiplier { get; }

    /// <summary>The base of the exponential growth.</summary>
    public double Base { get; }

    /// <summary>The shortest repeat that is penalised (with <c>Multiplier·Base⁰</c>).</summary>
    public int AllowedLength { get; }

    /// <summary><c>-1</c> (whole history) or the number of last non-padding tokens read.</summary>
    public int Window { get; }

    /// <summary>The sequence breakers, ascending and distinct.</summary>
    public IReadOnlyList<int> SequenceBreakers => _breakers;

    /// <summary>The exponent cap <c>⌊88.72 / ln Base⌋</c> (<see cref="int.MaxValue"/> when <c>Base = 1</c>, where no cap applies).</summary>
    public int MaxExponent { get; }

    /// <inheritdoc />
    public override string Name => "dry";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A history id in the window, or a sequence breaker, is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        if (_breakers.Length > 0 && _breakers[^1] >= logits.Vocab)
        {
            ThrowHelper.ThrowArgumentOutOfRange("sequenceBreakers", _breakers[^1], $"must hold ids below the vocabulary size {logits.Vocab}");
        }

        int longest = 0;
        for (int r = 0; r < rows; r++)
        {
            if (Multiplier.For(logits.RowOffset + r) > 0)
            {
                longest = Math.Max(longest, contexts[r].History.Length);
            }
        }

        if (longest < 2)
        {
            return;
        }

        var sequence = LogitProcessorBuffers.RentInts(longest);
        var z = LogitProcessorBuffers.RentInts(longest);
        var keys = LogitProcessorBuffers.RentLongs(longest);
        var edits = new SparseRowEdits(rows, 64);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                if (Multiplier.For(logits.RowOffset + r) > 0)
                {
                    CollectRow(contexts[r], logits.RowOffset + r, logits.Vocab, sequence, z, keys, ref edits);
                }

                edits.EndRow();
            }

            if (!edits.PreparePenalties())
            {
                return;
            }

            for (int r = 0; r < rows; r++)
            {
                double multiplier = Multiplier.For(logits.RowOffset + r);
                for (int e = edits.RowStart(r); e < edits.RowEnd(r); e++)
                {
                    // z - penalty in float64 on the batch's backend (divisor 1: no scaling).
                    edits.Divisor(r, e) = 1.0;
                    edits.Offset(r, e) = Penalty(multiplier, edits.Count(e));
                }
            }

            edits.Penalize(logits, Name);
        }
        finally
        {
            edits.Dispose();
            LogitProcessorBuffers.Return(keys);
            LogitProcessorBuffers.Return(z);
            LogitProcessorBuffers.Return(sequence);
        }
    }

    /// <summary>The penalty of a repeat of <paramref name="length"/> ≥ AllowedLength tokens, in float64.</summary>
    /// <param name="multiplier">The row's multiplier.</param>
    /// <param name="length">The match length <c>L_t</c>.</param>
    /// <returns><c>Multiplier·Base^min(L − AllowedLength, MaxExponent)</c>.</returns>
    public double Penalty(double multiplier, int length)
    {
        int exponent = Math.Min(length - AllowedLength, MaxExponent);
        return multiplier * Math.Pow(Base, exponent);
    }

    private void CollectRow(SamplingContext context, int row, int vocab, int[] sequence, int[] z, long[] keys, ref SparseRowEdits edits)
    {
        var history = context.History.Span;
        int start = PenaltyHistory.WindowStart(history, 0, Window);
        int n = PenaltyHistory.CopyIds(history, start, vocab, row, sequence);
        if (n < 2 || IsBreaker(sequence[n - 1]))
        {
            return;
        }

        // Matches compare equal tokens, so one stops at a breaker exactly where the trailing run of
        // non-breakers ends: every L is capped by that run's length.
        int runLimit = 0;
        while (runLimit < n && !IsBreaker(sequence[n - 1 - runLimit]))
        {
            runLimit++;
        }

        ReversedZFunction(sequence.AsSpan(0, n), z.AsSpan(0, n));

        // rev[k] = h_{n-k} (1-based h): Z[k] is the common suffix length of h_1..h_j and h_1..h_n with j = n - k.
        int pairs = 0;
        for (int k = 1; k < n; k++)
        {
            int length = Math.Min(z[k], runLimit);
            if (length < AllowedLength)
            {
                continue;
            }

            int next = sequence[n - k]; // t = h_{j+1}
            if (IsBreaker(next))
            {
                continue;
            }

            keys[pairs++] = ((long)next << 32) | (uint)length;
        }

        var sorted = keys.AsSpan(0, pairs);
        sorted.Sort();
        for (int i = 0; i < pairs; i++)
        {
            // The last key of a token's group holds its longest match.
            if (i + 1 == pairs || (sorted[i + 1] >> 32) != (sorted[i] >> 32))
            {
                edits.Add((int)(sorted[i] >> 32), (int)(sorted[i] & 0xFFFFFFFF), 0);
            }
        }
    }

    /// <summary>
    /// The Z-function of the reversed <paramref name="sequence"/>: <c>z[k]</c> = the length of the longest common
    /// prefix of <c>rev</c> and <c>rev[k..]</c>, where <c>rev[x] = sequence[n − 1 − x]</c>. Linear time.
    /// </summary>
    internal static void ReversedZFunction(ReadOnlySpan<int> sequence, Span<int> z)
    {
        int n = sequence.Length;
        int last = n - 1;
        z[0] = n;
        int left = 0;
        int right = 0; // the Z-box [left, right) matches rev[0, right - left)
        for (int k = 1; k < n; k++)
        {
            int length = 0;
            if (k < right)
            {
                length = Math.Min(right - k, z[k - left]);
            }

            while (k + length < n && sequence[last - length] == sequence[last - k - length])
            {
                length++;
            }

            if (k + length > right)
            {
                left = k;
                right = k + length;
            }

            z[k] = length;
        }
    }

    private bool IsBreaker(int id) => _breakers.Length != 0 && _breakers.AsSpan().BinarySearch(id) >= 0;

    private static int[] Distinct(List<int> sorted)
    {
        var result = new List<int>(sorted.Count);
        foreach (int id in sorted)
        {
            if (result.Count == 0 || result[^1] != id)
            {
                result.Add(id);
            }
        }

        return result.ToArray();
    }
}
