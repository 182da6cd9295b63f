
namespace Logits.Processing.Constraints;

/// <summary>Min length: bans the EOS (and extra stop) ids while the whole history is shorter than <c>MinLength</c>.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#min-length-and-min-new-tokens; HF <c>MinLengthLogitsProcessor</c>, which counts prompt and output):
/// while <c>|history| &lt; MinLength</c>, every EOS id and extra stop id becomes <c>-∞</c>. <c>MinLength = 0</c>
/// is a no-op. For a count of generated tokens only, use <see cref="MinNewTokensProcessor"/>.</para>
/// <para>The EOS ids are each row's <see cref="SamplingContext.EosTokenIds"/> (a row without any is an error); they
/// and the stop ids must be below the vocabulary size (checked on every call). Not argmax-invariant.</para>
/// </remarks>
public sealed class MinLengthProcessor : EndOfSequenceBanProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="minLength">At least 0: the history length (prompt + output) below which EOS is banned.</param>
    /// <param name="stopTokenIds">Optional extra stop ids banned too (as vLLM's <c>min_tokens</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minLength"/> is negative.</exception>
    /// <exception cref="ArgumentException">A stop id is negative.</exception>
    public MinLengthProcessor(int minLength, IEnumerable<int>? stopTokenIds = null)
        : base(minLength, nameof(minLength), stopTokenIds)
    {
    }

    /// <summary>The minimum history length (prompt + output).</summary>
    public int MinLength => Minimum;

    /// <inheritdoc />
    public override string Name => "min-length";

    private protected override int CountedLength(SamplingContext context) => context.History.Length;
}
