
namespace Logits.TorchSharp.Rectification;

/// <summary>
/// A batch of decoder-only training sequences for a <see cref="CopilotJointTrainer{TPilot}"/>: each sequence is a
/// prompt of <c>m</c> tokens followed by <c>n ≥ 1</c> target tokens (<c>s_1 … s_{m+n}</c>).
/// </summary>
/// <remarks>
/// Host data, copied at construction: the trainer pads the sequences at the end (with token 0, never attended by a
/// causal Pilot from a valid position) into a <c>[B, T]</c> int64 tensor on the Pilot's device each step. The loss and
/// the Mistake Log use the targets <c>y_i = s_{m+i}</c>, predicted by the logits at position <c>m + i − 1</c>.
/// </remarks>
public sealed class CopilotTrainingBatch
{
    private readonly int[][] _sequences;
    private readonly int[] _promptLengths;

    /// <summary>Creates a batch.</summary>
    /// <param name="sequences">At least one sequence of non-negative token ids.</param>
    /// <param name="promptLengths">m per sequence, with <c>1 ≤ m &lt; length</c>.</param>
    /// <exception cref="ArgumentNullException">An argument or a sequence is null.</exception>
    /// <exception cref="ArgumentException">The batch is empty, the counts differ, an id is negative or a prompt length is out of range (the message names the row).</exception>
    public CopilotTrainingBatch(IReadOnlyList<IReadOnlyList<int>> sequences, IReadOnlyList<int> promptLengths)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(promptLengths);
        if (sequences.Count == 0)
        {
            ThrowHelper.ThrowArgument(nameof(sequences), "must hold at least one sequence.");
        }

        if (promptLengths.Count != sequences.Count)
        {
            ThrowHelper.ThrowArgument(nameof(promptLengths), $"has {promptLengths.Count} values but there are {sequences.Count} sequences.");
        }

        _sequences = new int[sequences.Count][];
        _promptLengths = new int[sequences.Count];
        for (int b = 0; b < sequences.Count; b++)
        {
            var sequence = sequences[b] ?? throw new ArgumentNullException(nameof(sequences), $"Row {b} is null.");
            int m = promptLengths[b];
            if (m < 1 || m >= sequence.Count)
            {
                ThrowHelper.ThrowArgument(nameof(promptLengths), $"row {b}: m = {m} must be in [1, {sequence.Count - 1}] (at least one prompt and one target token).");
            }

            var copy = new int[sequence.Count];
            for (int k = 0; k < copy.Length; k++)
            {
                if (sequence[k] < 0)
                {
                    ThrowHelper.ThrowArgument(nameof(sequences), $"row {b} holds the negative id {sequence[k]} at position {k}.");
                }

                copy[k] = sequence[k];
            }

            _sequences[b] = copy;
            _promptLengths[b] = m;
        }
    }

    /// <summary>B, the number of sequences.</summary>
    public int Count => _sequences.Length;

    /// <summary>The longest sequence length, T.</summary>
    public int MaxLength
    {
        get
        {
            int max = 0;
            foreach (var sequence in _sequences)
            {
                max = Math.Max(max, sequence.Length);
            }

            return max;
        }
    }

    /// <summary>The total number of tokens (prompts and targets).</summary>
    public int TokenCount
    {
        get
        {
            int sum = 0;
            foreach (var sequence in _sequences)
            {
                sum += sequence.Length;
            }

            return sum;
        }
    }

    /// <summary>Sequence <paramref name="row"/> (prompt followed by targets).</summary>
    /// <param name="row">The row.</param>
    /// <returns>The tokens.</returns>
    public ReadOnlySpan<int> Sequence(int row) => _sequences[row];

    /// <summary>m of sequence <paramref name="row"/>.</summary>
    /// <param name="row">The row.</param>
    /// <returns>The prompt length.</returns>
    public int PromptLength(int row) => _promptLengths[row];

    /// <summary>n of sequence <paramref name="row"/>: its length minus its prompt length.</summary>
    /// <param name="row">The row.</param>
    /// <returns>The target length.</returns>
    public int TargetLength(int row) => _sequences[row].Length - _promptLengths[row];
}
