using LLama.Native;
using Logits.Processing;

namespace Logits.LLamaSharp.Sampling;

/// <summary>
/// Runs Logits processors on llama.cpp candidates: scatters the (id, logit) entries into a full-vocabulary row
/// (absent ids are <c>-∞</c>, i.e. removed), processes the row, and gathers the new logits back.
/// </summary>
/// <remarks>
/// llama.cpp hands samplers a <c>llama_token_data_array</c> that may already be truncated by earlier stages and
/// sorted by logit; it carries no vocabulary size. Processors need the whole row (penalties and biases address
/// token ids), so the row is rebuilt each call: O(V) for the fill plus the processors' own cost.
/// </remarks>
internal sealed class CandidateRow : IDisposable
{
    private readonly ILogitProcessor[] _processors;
    private readonly SamplingContext[] _contexts = { new SamplingContext() };
    private CpuLogitBatch? _batch;

    public CandidateRow(ILogitProcessor[] processors) => _processors = processors;

    public SamplingContext Context => _contexts[0];

    /// <summary>Gives the row's context the end-of-sequence ids (the processors that need them read them there).</summary>
    /// <param name="eosTokenIds">The ids, each at least 0.</param>
    public void SetEndOfSequence(IEnumerable<int> eosTokenIds) => _contexts[0] = new SamplingContext(0, eosTokenIds);

    /// <summary>The model's end-of-generation ids: its EOS and EOT tokens, where it has them.</summary>
    /// <param name="vocab">The model's vocabulary.</param>
    /// <returns>The ids (possibly empty).</returns>
    public static int[] EndOfGeneration(SafeLlamaModelHandle.Vocabulary vocab)
    {
        var ids = new List<int>(2);
        if (vocab.EOS is { } eos)
        {
            ids.Add((int)eos);
        }

        if (vocab.EOT is { } eot && !ids.Contains((int)eot))
        {
            ids.Add((int)eot);
        }

        return ids.ToArray();
    }

    public IReadOnlyList<ILogitProcessor> Processors => _processors;

    /// <summary>Processes the candidates in place and, when <paramref name="compact"/>, drops the removed ones.</summary>
    /// <param name="candidates">The candidates; ids must lie in <c>[0, vocabSize)</c>.</param>
    /// <param name="vocabSize">The model's vocabulary size.</param>
    /// <param name="wasSorted">Whether the candidates arrived sorted by descending logit.</param>
    /// <param name="compact">Move the kept candidates to the front (in their order) instead of writing <c>-∞</c>.</param>
    /// <param name="stillSorted">Whether the kept candidates are still sorted by descending logit.</param>
    /// <returns>The number of kept candidates (all of them when not compacting).</returns>
    /// <exception cref="ArgumentException">A candidate id is outside the vocabulary.</exception>
    /// <exception cref="NoViableTokenException">The processors removed every candidate.</exception>
    public int Apply(Span<LLamaTokenData> candidates, int vocabSize, bool wasSorted, bool compact, out bool stillSorted)
    {
        if (_batch is null || _batch.Vocab != vocabSize)
        {
            _batch?.Dispose();
            _batch = new CpuLogitBatch(1, vocabSize);
        }

        var row = _batch.GetRow(0);
        row.Fill(float.NegativeInfinity);
        for (int i = 0; i < candidates.Length; i++)
        {
            int id = (int)candidates[i].ID;
            if ((uint)id >= (uint)vocabSize)
            {
                throw new ArgumentException($"Candidate {i} has the token id {id}, outside the vocabulary [0, {vocabSize}).", nameof(candidates));
            }

            row[id] = candidates[i].Logit;
        }

        foreach (var processor in _processors)
        {
            processor.Process(_batch, _contexts);
        }

        int kept = 0;
        stillSorted = wasSorted;
        float previous = float.PositiveInfinity;
        for (int i = 0; i < candidates.Length; i++)
        {
            var candidate = candidates[i];
            float logit = row[(int)candidate.ID];
            if (compact && float.IsNegativeInfinity(logit))
            {
                continue;
            }

            stillSorted &= logit <= previous;
            previous = logit;
            candidate.Logit = logit;
            candidates[kept++] = candidate;
        }

        if (kept == 0 || (!compact && AllRemoved(candidates)))
        {
            throw new NoViableTokenException(0, "llama.cpp candidates");
        }

        return kept;
    }

    public void Dispose()
    {
        _batch?.Dispose();
        _batch = null;
    }

    private static bool AllRemoved(ReadOnlySpan<LLamaTokenData> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (!float.IsNegativeInfinity(candidate.Logit))
            {
                return false;
            }
        }

        return true;
    }
}
