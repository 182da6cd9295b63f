
namespace Logits.Generation;

/// <summary>Stop rules of a <see cref="TokenGenerator"/>: a token budget, end-of-sequence ids and stop sequences.</summary>
public sealed class GenerationOptions
{
    private readonly int _maxNewTokens = 256;
    private readonly IReadOnlyList<int> _eosTokenIds = Array.Empty<int>();
    private readonly IReadOnlyList<IReadOnlyList<int>> _stopSequences = Array.Empty<IReadOnlyList<int>>();

    /// <summary>The most tokens to generate, at least 1 (default 256).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MaxNewTokens
    {
        get => _maxNewTokens;
        init
        {
            if (value < 1)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(MaxNewTokens), value, "must be at least 1");
            }

            _maxNewTokens = value;
        }
    }

    /// <summary>End-of-sequence ids: generation stops when one is sampled; it is not yielded.</summary>
    /// <exception cref="ArgumentException">An id is negative.</exception>
    public IReadOnlyList<int> EosTokenIds
    {
        get => _eosTokenIds;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            foreach (int id in value)
            {
                if (id < 0)
                {
                    ThrowHelper.ThrowArgument(nameof(EosTokenIds), $"holds the negative id {id}.");
                }
            }

            _eosTokenIds = new List<int>(value);
        }
    }

    /// <summary>
    /// Token sequences that end generation when the output ends with one; the stop sequence itself is not
    /// yielded (tokens that might start one are held back until they cannot).
    /// </summary>
    /// <exception cref="ArgumentException">A sequence is empty or holds a negative id.</exception>
    public IReadOnlyList<IReadOnlyList<int>> StopSequences
    {
        get => _stopSequences;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            var copy = new List<IReadOnlyList<int>>();
            foreach (var sequence in value)
            {
                if (sequence is null || sequence.Count == 0)
                {
                    ThrowHelper.ThrowArgument(nameof(StopSequences), "holds an empty sequence.");
                }

                foreach (int id in sequence)
                {
                    if (id < 0)
                    {
                        ThrowHelper.ThrowArgument(nameof(StopSequences), $"holds the negative id {id}.");
                    }
                }

                copy.Add(new List<int>(sequence));
            }

            _stopSequences = copy;
        }
    }
}
