
namespace Logits.Processing.Constraints;

/// <summary>Logit bias: adds a fixed bias to chosen tokens (<c>-∞</c> bans them).</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#logit-bias; OpenAI <c>logit_bias</c>, HF <c>SequenceBiasLogitsProcessor</c> with
/// one-token sequences): <c>z_id ← z_id + b</c> for every entry of the map, the same for every row.
/// <c>-∞</c> is sticky: a removed token stays removed whatever its bias.</para>
/// <para>Library decisions: an empty map is a valid no-op; OpenAI's <c>[-100, 100]</c> range is left to
/// an options layer. A sum that overflows <c>float</c> throws <see cref="InvalidLogitsException"/> (stage
/// <c>"scatter-add"</c>). Not argmax-invariant.</para>
/// </remarks>
public sealed class LogitBiasProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private readonly int[] _ids;
    private readonly float[] _biases;

    /// <summary>Creates the processor.</summary>
    /// <param name="bias">Token id (≥ 0) to bias; each bias finite (within float32 range, since it is added to
    /// float32 logits) or <c>-∞</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="bias"/> is null.</exception>
    /// <exception cref="ArgumentException">An id is negative.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bias is NaN, <c>+∞</c>, or finite beyond float32's range.</exception>
    public LogitBiasProcessor(IReadOnlyDictionary<int, double> bias)
        : base(RowMaximaUse.None)
    {
        ArgumentNullException.ThrowIfNull(bias);
        var ids = new List<int>(bias.Count);
        foreach (var entry in bias)
        {
            if (entry.Key < 0)
            {
                ThrowHelper.ThrowArgument(nameof(bias), $"holds the negative token id {entry.Key}; token ids are at least 0.");
            }

            if (!IsValidBias(entry.Value))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(bias), entry.Value, $"values must be finite within float32 range or -infinity (token {entry.Key})");
            }

            ids.Add(entry.Key);
        }

        ids.Sort();
        _ids = ids.ToArray();
        _biases = new float[_ids.Length];
        for (int i = 0; i < _ids.Length; i++)
        {
            _biases[i] = (float)bias[_ids[i]];
        }

        Bias = new Dictionary<int, double>(bias);
    }

    /// <summary>The bias of each token (a copy of the constructor's map).</summary>
    public IReadOnlyDictionary<int, double> Bias { get; }

    /// <summary>A bias added to float32 logits: <c>-∞</c>, or finite and within float32's range.</summary>
    internal static bool IsValidBias(double value) =>
        double.IsNegativeInfinity(value) || (double.IsFinite(value) && Math.Abs(value) <= float.MaxValue);

    /// <inheritdoc />
    public override string Name => "logit-bias";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A biased id is at least the vocabulary size (ParamName <c>bias</c>).</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int width = _ids.Length;
        if (width == 0)
        {
            return;
        }

        TokenIdSets.EnsureBelowVocab(TokenIdSets.Max(_ids), logits.Vocab, "bias");
        int rows = logits.Rows;
        var ids = LogitProcessorBuffers.RentInts(rows * width);
        var values = LogitProcessorBuffers.RentFloats(rows * width);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                _ids.CopyTo(ids.AsSpan(r * width, width));
                _biases.CopyTo(values.AsSpan(r * width, width));
            }

            logits.Kernels.ScatterAdd(logits, ids.AsSpan(0, rows * width), values.AsSpan(0, rows * width));
        }
        finally
        {
            LogitProcessorBuffers.Return(ids);
            LogitProcessorBuffers.Return(values);
        }
    }
}
