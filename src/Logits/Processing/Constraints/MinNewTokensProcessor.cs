using System;
using System.Collections.Generic;
using Logits.Tensors;

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
public sealed class MinNewTokensProcessor : LogitProcessor
{
    private readonly EndOfSequenceBan _ban;

    /// <summary>Creates the processor.</summary>
    /// <param name="minNewTokens">At least 0: the number of generated tokens below which EOS is banned.</param>
    /// <param name="stopTokenIds">Optional extra stop ids banned too (as vLLM's <c>min_tokens</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minNewTokens"/> is negative.</exception>
    /// <exception cref="ArgumentException">A stop id is negative.</exception>
    public MinNewTokensProcessor(int minNewTokens, IEnumerable<int>? stopTokenIds = null)
    {
        if (minNewTokens < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minNewTokens), minNewTokens, "must be at least 0");
        }

        MinNewTokens = minNewTokens;
        _ban = new EndOfSequenceBan(stopTokenIds);
    }

    /// <summary>The minimum number of generated tokens.</summary>
    public int MinNewTokens { get; }

    /// <summary>The extra stop ids (sorted, distinct; may be empty).</summary>
    public IReadOnlyList<int> StopTokenIds => _ban.StopTokenIds;

    /// <inheritdoc />
    public override string Name => "min-new-tokens";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An EOS or stop id is at least the vocabulary size.</exception>
    /// <exception cref="InvalidOperationException">A row's <see cref="SamplingContext"/> has no EOS ids.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax) =>
        _ban.Apply(logits, contexts, MinNewTokens, countPrompt: false, Name);
}
