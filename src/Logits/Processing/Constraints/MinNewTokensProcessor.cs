
namespace Logits.Processing.Constraints;

/// <summary>Min new tokens: bans the EOS (and extra stop) ids while fewer than <c>MinNewTokens</c> tokens were generated.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#min-length-and-min-new-tokens; HF <c>MinNewTokensLengthLogitsProcessor</c>, vLLM <c>min_tokens</c>): while
/// <c>Generated &lt; MinNewTokens</c>, every EOS id and extra stop id becomes <c>-∞</c>. With
/// <c>MinNewTokens = 2</c>, EOS is banned for output tokens 1 and 2. <c>0</c> is a no-op. The prompt does
/// not count (see <see cref="MinLengthProcessor"/> for prompt + output).</para>
/// <para>The EOS ids are each row's <see cref="SamplingContext.EosTokenIds"/> (a row without any is an error); they
/// and the stop ids must be below the vocabulary size (checked on every call). Not argmax-invariant.</para>
/// </remarks>
public sealed class MinNewTokensProcessor : EndOfSequenceBanProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="minNewTokens">At least 0: the number of generated tokens below which EOS is banned.</param>
    /// <param name="stopTokenIds">Optional extra stop ids banned too (as vLLM's <c>min_tokens</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minNewTokens"/> is negative.</exception>
    /// <exception cref="ArgumentException">A stop id is negative.</exception>
    public MinNewTokensProcessor(int minNewTokens, IEnumerable<int>? stopTokenIds = null)
        : base(minNewTokens, nameof(minNewTokens), stopTokenIds)
    {
    }

    /// <summary>The minimum number of generated tokens.</summary>
    public int MinNewTokens => Minimum;

    /// <inheritdoc />
    public override string Name => "min-new-tokens";

    private protected override int CountedLength(SamplingContext context) => context.Generated;
}
