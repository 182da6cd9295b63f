using Logits.Randomness;

namespace Logits.Diffusion;

/// <summary>
/// DCoLT's unmasking policy for masked diffusion language models: a Plackett–Luce choice of which masked positions of the
/// current block to reveal, from per-position scores, then token draws; with the action log-probability for RL.
/// </summary>
/// <remarks>
/// <para>
/// Step n of N (docs/algorithms/discrete-diffusion.md#the-unmasking-step, following the official LLaDOU code): candidates are the masked positions
/// inside the current block (blocks of B answer tokens, N/(G/B) steps each); the count is the block's quota
/// (<see cref="LladaSampler.Quotas"/>); selection is Gumbel-top-k sampling for training rollouts and top-K of the scores at
/// inference. On the last step of a block all remaining candidates are revealed and the selection term is 0 (the set is
/// forced). Tokens of the selected positions are drawn from softmax(ℓ_i/T) in float64 (mask column excluded) for rollouts,
/// argmax at inference; <c>ln π_tok = Σ ln softmax(ℓ_i/T)[x_i]</c>.
/// </para>
/// <para>
/// Uniform consumption of a rollout step: one per candidate in ascending position (Gumbel-top-k), then, for each selected
/// position in ascending position order, one per finite logit in ascending token id (Gumbel-argmax at temperature T).
/// The policy head that produces the scores is the caller's; the library only consumes h.
/// Source: Huang et al., "Reinforcing the Diffusion Chain of Lateral Thought with Diffusion Language Models", arXiv 2505.10446.
/// </para>
/// </remarks>
public sealed class DcoltUnmaskingPolicy
{
    private readonly int[] _quotas;

    /// <summary>Creates the policy layout.</summary>
    /// <param name="generationLength">G ≥ 1.</param>
    /// <param name="blockLength">B in <c>[1, G]</c>, dividing G.</param>
    /// <param name="steps">N, a positive multiple of G/B.</param>
    /// <param name="temperature">T &gt; 0 of the token draws (official: 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or T outside its range.</exception>
    /// <exception cref="ArgumentException">B does not divide G, or N is not a multiple of G/B.</exception>
    public DcoltUnmaskingPolicy(int generationLength, int blockLength, int steps, double temperature = 1.0)
    {
        // The LLaDA layout rules are the same; its constructor validates them.
        _ = new LladaSampler(generationLength, blockLength, steps);
        if (!(temperature > 0.0 && double.IsFinite(temperature)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(temperature), temperature, "must be positive and finite");
        }

        GenerationLength = generationLength;
        BlockLength = blockLength;
        Steps = steps;
        Temperature = temperature;
        StepsPerBlock = steps / (generationLength / blockLength);
        _quotas = LladaSampler.Quotas(blockLength, StepsPerBlock);
    }

    /// <summary>G.</summary>
    public int GenerationLength { get; }

    /// <summary>B.</summary>
    public int BlockLength { get; }

    /// <summary>N.</summary>
    public int Steps { get; }

    /// <summary>Steps per block.</summary>
    public int StepsPerBlock { get; }

    /// <summary>T of the token draws.</summary>
    public double Temperature { get; }

    /// <summary>Whether <paramref name="step"/> is the last of its block (forced selection, PL term 0).</summary>
    /// <param name="step">In <c>[0, N)</c>.</param>
    /// <returns>True on a block's last step.</returns>
    public bool IsForcedFinal(int step) => CheckStep(step) % StepsPerBlock == StepsPerBlock - 1;

    /// <summary>The number of positions revealed at <paramref name="step"/> when the block started fully masked.</summary>
    /// <param name="step">In <c>[0, N)</c>.</param>
    /// <returns>The quota.</returns>
    public int Quota(int step) => _quotas[CheckStep(step) % StepsPerBlock];

    /// <summary>Takes one step on one sequence: selects positions, draws their tokens, writes them into <paramref name="tokens"/>.</summary>
    /// <param name="tokens">The sequence (prompt ‖ answer), updated in place.</param>
    /// <param name="promptLength">P; the answer starts there and has G positions.</param>
    /// <param name="maskId">The mask id (its logit column is excluded).</param>
    /// <param name="step">n in <c>[0, N)</c>.</param>
    /// <param name="scores">h, one per position of <paramref name="tokens"/>.</param>
    /// <param name="logits">The model's logits, <c>tokens.Length × rowWidth</c>.</param>
    /// <param name="rowWidth">The logit row width.</param>
    /// <param name="random">The rollout stream; <see langword="null"/> for deterministic inference (top-K, argmax).</param>
    /// <returns>The action with its log-probability.</returns>
    /// <exception cref="ArgumentException">Inconsistent lengths.</exception>
    /// <exception cref="NoViableTokenException">A selected position's row has no finite entry besides the mask column.</exception>
    public DcoltAction Act(Span<int> tokens, int promptLength, int maskId, int step, ReadOnlySpan<double> scores, ReadOnlySpan<float> logits, int rowWidth, IRandomSource? random)
    {
        var candidates = Candidates(tokens, promptLength, maskId, step, scores, logits, rowWidth, out int available);
        int count = IsForcedFinal(step) ? available : Math.Min(Quota(step), available);
        var order = new int[count];
        if (random is null)
        {
            PlackettLuce.TopK(scores, candidates, count, order);
        }
        else
        {
            PlackettLuce.SampleGumbelTopK(scores, candidates, count, random, order);
        }

        double selection = PlackettLuce.StepLogProbability(scores, candidates, order, IsForcedFinal(step));
        var chosen = new int[count];
        var ascending = (int[])order.Clone();
        Array.Sort(ascending);
        var uniforms = random is null ? null : new UniformStream(random);
        var row = new float[rowWidth];
        double tokenLogProbability = 0;
        foreach (int i in ascending)
        {
            logits.Slice(i * rowWidth, rowWidth).CopyTo(row);
            row[maskId] = float.NegativeInfinity;
            int y = uniforms is null ? LladaSampler.ArgMax(row) : LladaSampler.GumbelArgMax(row, Temperature, uniforms);
            if (y < 0)
            {
                ThrowHelper.ThrowNoViableToken(i, "DCoLT token draw");
            }

            chosen[Array.IndexOf(order, i)] = y;
            tokenLogProbability += LogSoftmax(row, Temperature, y);
        }

        for (int r = 0; r < count; r++)
        {
            tokens[order[r]] = chosen[r];
        }

        return new DcoltAction(order, chosen, selection, tokenLogProbability);
    }

    /// <summary>
    /// The log-probability of a recorded <paramref name="action"/> taken from <paramref name="tokensBefore"/>, under (possibly
    /// updated) scores and logits: what an RL trainer evaluates for importance ratios.
    /// </summary>
    /// <param name="tokensBefore">The sequence before the step.</param>
    /// <param name="promptLength">P.</param>
    /// <param name="maskId">The mask id.</param>
    /// <param name="step">n.</param>
    /// <param name="scores">h under the current parameters.</param>
    /// <param name="logits">Logits under the current parameters.</param>
    /// <param name="rowWidth">The logit row width.</param>
    /// <param name="action">The recorded action.</param>
    /// <returns><c>ln P_PL + ln π_tok</c>.</returns>
    public double LogProbability(ReadOnlySpan<int> tokensBefore, int promptLength, int maskId, int step, ReadOnlySpan<double> scores, ReadOnlySpan<float> logits, int rowWidth, DcoltAction action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var candidates = Candidates(tokensBefore, promptLength, maskId, step, scores, logits, rowWidth, out _);
        double total = PlackettLuce.StepLogProbability(scores, candidates, action.Positions.Span, IsForcedFinal(step));
        var row = new float[rowWidth];
        for (int r = 0; r < action.Positions.Length; r++)
        {
            logits.Slice(action.Positions.Span[r] * rowWidth, rowWidth).CopyTo(row);
            row[maskId] = float.NegativeInfinity;
            total += LogSoftmax(row, Temperature, action.Tokens.Span[r]);
        }

        return total;
    }

    private bool[] Candidates(ReadOnlySpan<int> tokens, int promptLength, int maskId, int step, ReadOnlySpan<double> scores, ReadOnlySpan<float> logits, int rowWidth, out int available)
    {
        if (promptLength < 0 || promptLength + GenerationLength != tokens.Length)
        {
            ThrowHelper.ThrowArgument(nameof(tokens), $"has {tokens.Length} positions but prompt {promptLength} + answer {GenerationLength} are expected.");
        }

        if (scores.Length != tokens.Length)
        {
            ThrowHelper.ThrowArgument(nameof(scores), $"has {scores.Length} scores but the sequence has {tokens.Length} positions.");
        }

        if (rowWidth < 1 || maskId < 0 || maskId >= rowWidth || logits.Length != tokens.Length * rowWidth)
        {
            ThrowHelper.ThrowArgument(nameof(logits), $"must hold {tokens.Length} rows of width {rowWidth} with the mask id inside the row.");
        }

        var candidates = new bool[tokens.Length];
        int blockStart = promptLength + (CheckStep(step) / StepsPerBlock * BlockLength);
        available = PlackettLuce.CandidateMask(tokens, maskId, blockStart, BlockLength, candidates);
        return candidates;
    }

    private int CheckStep(int step)
    {
        if (step < 0 || step >= Steps)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(step), step, $"must be in [0, {Steps})");
        }

        return step;
    }

    // ln softmax(row / T)[y] in float64, max-shifted.
    private static double LogSoftmax(ReadOnlySpan<float> row, double temperature, int y)
    {
        double max = double.NegativeInfinity;
        foreach (float v in row)
        {
            max = Math.Max(max, v / temperature);
        }

        double z = 0;
        foreach (float v in row)
        {
            z += Math.Exp((v / temperature) - max);
        }

        return (row[y] / temperature) - max - Math.Log(z);
    }
}
