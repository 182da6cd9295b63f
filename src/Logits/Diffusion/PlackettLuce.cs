using Logits.Randomness;

namespace Logits.Diffusion;

/// <summary>
/// The Plackett–Luce distribution over ordered selections of candidates from per-item scores: log-probability, gradient,
/// sampling (Gumbel-top-k and sequential) and deterministic top-K. DCoLT's unmasking policy is built on it.
/// </summary>
/// <remarks>
/// <para>
/// <c>ln P(s₁…s_K) = Σ_r [h_{s_r} − ln Σ_{j ∈ R_r} e^{h_j}]</c>, <c>R_r = C \ {s₁…s_{r−1}}</c> (docs/algorithms/discrete-diffusion.md#plackett-luce).
/// Invariant to adding a constant to h; order-dependent; the ordered K-tuples sum to 1; an unordered set's probability is
/// the sum over its K! orders. Evaluated in O(#C + K) by reverse log-space accumulation, so h·1000 stays finite.
/// </para>
/// <para>
/// Candidates: the <c>candidates</c> mask marks them when not empty; otherwise every finite score is a candidate.
/// A score of −∞ is never a candidate. NaN and +∞ scores throw <see cref="InvalidLogitsException"/>.
/// Sources: Plackett (1975), Luce (1959); Gumbel-top-k: Yellott (1977), Kool, van Hoof and Welling (2019);
/// DCoLT: Huang et al., arXiv 2505.10446, official repository maple-research-lab/LLaDOU.
/// </para>
/// </remarks>
public static class PlackettLuce
{
    private const string Stage = "Plackett-Luce scores";

    /// <summary>The log-probability of the ordered selection <paramref name="order"/>.</summary>
    /// <param name="scores">h, finite or −∞.</param>
    /// <param name="candidates">The candidate mask (same length as h), or empty for "every finite score".</param>
    /// <param name="order">Distinct candidate indices in selection order (K ≥ 0 of them).</param>
    /// <returns><c>ln P</c>; 0 for an empty order.</returns>
    /// <exception cref="InvalidLogitsException">A NaN or +∞ score.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index outside h.</exception>
    /// <exception cref="ArgumentException">A duplicate or non-candidate index; a candidate mask of the wrong length.</exception>
    public static double LogProbability(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, ReadOnlySpan<int> order)
    {
        Span<double> logZ = order.Length <= 256 ? stackalloc double[order.Length] : new double[order.Length];
        return Accumulate(scores, candidates, order, logZ);
    }

    /// <summary>The log-probability with every finite score a candidate.</summary>
    /// <param name="scores">h.</param>
    /// <param name="order">The ordered selection.</param>
    /// <returns><c>ln P</c>.</returns>
    public static double LogProbability(ReadOnlySpan<double> scores, ReadOnlySpan<int> order) => LogProbability(scores, ReadOnlySpan<bool>.Empty, order);

    /// <summary>DCoLT's per-step selection term: <see cref="LogProbability(ReadOnlySpan{double}, ReadOnlySpan{bool}, ReadOnlySpan{int})"/>, or 0 on the forced final step of a block.</summary>
    /// <param name="scores">h.</param>
    /// <param name="candidates">The candidate mask, or empty.</param>
    /// <param name="order">The ordered selection.</param>
    /// <param name="forcedFinal">Whether this is the last step of a block, where all remaining candidates are revealed and the set is forced (official LLaDOU code).</param>
    /// <returns>The term.</returns>
    public static double StepLogProbability(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, ReadOnlySpan<int> order, bool forcedFinal)
    {
        double value = LogProbability(scores, candidates, order);
        return forcedFinal ? 0.0 : value;
    }

    /// <summary>The gradient <c>∂ ln P/∂h_j = Σ_r [1(j = s_r) − 1(j ∈ R_r) e^{h_j − ln Z_r}]</c>; 0 for non-candidates; sums to 0.</summary>
    /// <param name="scores">h.</param>
    /// <param name="candidates">The candidate mask, or empty.</param>
    /// <param name="order">The ordered selection.</param>
    /// <param name="destination">Receives the gradient, same length as h.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length, or the order/candidates are invalid.</exception>
    public static void Gradient(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, ReadOnlySpan<int> order, Span<double> destination)
    {
        if (destination.Length != scores.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has length {destination.Length} but the scores have {scores.Length}.");
        }

        var logZ = new double[order.Length];
        Accumulate(scores, candidates, order, logZ);

        // ln S_q = ln Σ_{r≤q} 1/Z_r (log-space prefix sums); unselected candidates use S_K.
        var logPrefix = new double[order.Length];
        double running = double.NegativeInfinity;
        for (int r = 0; r < order.Length; r++)
        {
            running = LogAddExp(running, -logZ[r]);
            logPrefix[r] = running;
        }

        double all = order.Length > 0 ? logPrefix[^1] : double.NegativeInfinity;
        for (int j = 0; j < scores.Length; j++)
        {
            destination[j] = IsCandidate(scores, candidates, j) ? -Math.Exp(scores[j] + all) : 0.0;
        }

        for (int q = 0; q < order.Length; q++)
        {
            int s = order[q];
            destination[s] = 1.0 - Math.Exp(scores[s] + logPrefix[q]);
        }
    }

    /// <summary>Samples K items by Gumbel-top-k: <c>h̃_j = h_j + G_j</c> for every candidate, in descending order; the order is the selection order.</summary>
    /// <param name="scores">h.</param>
    /// <param name="candidates">The candidate mask, or empty.</param>
    /// <param name="count">K, in <c>[0, #C]</c>.</param>
    /// <param name="random">One uniform is drawn per candidate, in ascending index.</param>
    /// <param name="destination">Receives the K indices, at least K long.</param>
    /// <exception cref="ArgumentOutOfRangeException">K outside <c>[0, #C]</c>.</exception>
    public static void SampleGumbelTopK(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, int count, IRandomSource random, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        CheckCount(scores, candidates, count, destination);
        var perturbed = new double[scores.Length];
        for (int j = 0; j < scores.Length; j++)
        {
            perturbed[j] = IsCandidate(scores, candidates, j) ? scores[j] - Math.Log(-Math.Log(random.NextOpenDouble())) : double.NegativeInfinity;
        }

        SelectTop(perturbed, candidates, scores, count, destination);
    }

    /// <summary>Gumbel-top-k with pre-drawn uniforms, one per candidate in ascending index.</summary>
    /// <param name="scores">h.</param>
    /// <param name="candidates">The candidate mask, or empty.</param>
    /// <param name="count">K.</param>
    /// <param name="uniforms">Values in <c>(0, 1)</c>, at least one per candidate.</param>
    /// <param name="destination">Receives the K indices.</param>
    /// <exception cref="ArgumentException">Too few uniforms.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A uniform outside <c>(0, 1)</c>, or K outside its range.</exception>
    public static void SampleGumbelTopK(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, int count, ReadOnlySpan<double> uniforms, Span<int> destination)
    {
        int available = CheckCount(scores, candidates, count, destination);
        if (uniforms.Length < available)
        {
            ThrowHelper.ThrowArgument(nameof(uniforms), $"has {uniforms.Length} values but there are {available} candidates.");
        }

        var perturbed = new double[scores.Length];
        int next = 0;
        for (int j = 0; j < scores.Length; j++)
        {
            if (!IsCandidate(scores, candidates, j))
            {
                perturbed[j] = double.NegativeInfinity;
                continue;
            }

            double u = uniforms[next++];
            if (!(u > 0.0 && u < 1.0))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(uniforms), u, "must hold uniforms in the open interval (0, 1)");
            }

            perturbed[j] = scores[j] - Math.Log(-Math.Log(u));
        }

        SelectTop(perturbed, candidates, scores, count, destination);
    }

    /// <summary>Samples K items sequentially: for r = 1…K, one uniform U picks s_r from softmax(h) over the remaining candidates by inverse CDF in ascending index.</summary>
    /// <param name="scores">h.</param>
    /// <param name="candidates">The candidate mask, or empty.</param>
    /// <param name="count">K.</param>
    /// <param name="random">One uniform per pick.</param>
    /// <param name="destination">Receives the K indices.</param>
    public static void SampleSequential(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, int count, IRandomSource random, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        CheckCount(scores, candidates, count, destination);
        var taken = new bool[scores.Length];
        for (int r = 0; r < count; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < scores.Length; j++)
            {
                if (!taken[j] && IsCandidate(scores, candidates, j))
                {
                    max = Math.Max(max, scores[j]);
                }
            }

            double z = 0;
            int last = -1;
            for (int j = 0; j < scores.Length; j++)
            {
                if (!taken[j] && IsCandidate(scores, candidates, j))
                {
                    z += Math.Exp(scores[j] - max);
                    last = j;
                }
            }

            double target = random.NextOpenDouble() * z;
            int pick = last;
            double cumulative = 0;
            for (int j = 0; j < scores.Length; j++)
            {
                if (!taken[j] && IsCandidate(scores, candidates, j))
                {
                    cumulative += Math.Exp(scores[j] - max);
                    if (target < cumulative)
                    {
                        pick = j;
                        break;
                    }
                }
            }

            taken[pick] = true;
            destination[r] = pick;
        }
    }

    /// <summary>Deterministic inference: the K highest-scoring candidates in descending order, ties to the lower index.</summary>
    /// <param name="scores">h.</param>
    /// <param name="candidates">The candidate mask, or empty.</param>
    /// <param name="count">K.</param>
    /// <param name="destination">Receives the K indices.</param>
    public static void TopK(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, int count, Span<int> destination)
    {
        CheckCount(scores, candidates, count, destination);
        SelectTop(scores, candidates, scores, count, destination);
    }

    /// <summary>DCoLT's candidate mask: the masked positions inside <c>[blockStart, blockStart + blockLength)</c>.</summary>
    /// <param name="tokens">The sequence.</param>
    /// <param name="maskId">The mask id.</param>
    /// <param name="blockStart">The first position of the current block.</param>
    /// <param name="blockLength">The block length.</param>
    /// <param name="destination">Receives one flag per position of <paramref name="tokens"/>.</param>
    /// <returns>The number of candidates.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The block does not fit in the sequence.</exception>
    public static int CandidateMask(ReadOnlySpan<int> tokens, int maskId, int blockStart, int blockLength, Span<bool> destination)
    {
        if (blockStart < 0 || blockLength < 0 || blockStart + blockLength > tokens.Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(blockStart), blockStart, $"and blockLength {blockLength} must describe a block inside the {tokens.Length} positions");
        }

        if (destination.Length != tokens.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has length {destination.Length} but the sequence has {tokens.Length}.");
        }

        int count = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            destination[i] = i >= blockStart && i < blockStart + blockLength && tokens[i] == maskId;
            count += destination[i] ? 1 : 0;
        }

        return count;
    }

    internal static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }

        if (double.IsNegativeInfinity(b))
        {
            return a;
        }

        return Math.Max(a, b) + Math.Log(1.0 + Math.Exp(-Math.Abs(a - b)));
    }

    private static bool IsCandidate(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, int j) =>
        !double.IsNegativeInfinity(scores[j]) && (candidates.IsEmpty || candidates[j]);

    private static int CheckScores(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates)
    {
        if (!candidates.IsEmpty && candidates.Length != scores.Length)
        {
            ThrowHelper.ThrowArgument(nameof(candidates), $"has length {candidates.Length} but the scores have {scores.Length}.");
        }

        int count = 0;
        for (int j = 0; j < scores.Length; j++)
        {
            double h = scores[j];
            if (double.IsNaN(h) || double.IsPositiveInfinity(h))
            {
                ThrowHelper.ThrowInvalidLogits(0, j, (float)h, Stage);
            }

            count += IsCandidate(scores, candidates, j) ? 1 : 0;
        }

        return count;
    }

    private static int CheckCount(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, int count, Span<int> destination)
    {
        int available = CheckScores(scores, candidates);
        if (count > 0 && available == 0)
        {
            ThrowHelper.ThrowArgument(nameof(candidates), "must leave at least one candidate (a finite score) when K > 0.");
        }

        if (count < 0 || count > available)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, $"must be in [0, {available}] (the number of candidates)");
        }

        if (destination.Length < count)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has length {destination.Length} but K = {count}.");
        }

        return available;
    }

    // K passes of a max scan: K is small (a per-step quota); strict '>' keeps the lower index on ties.
    private static void SelectTop(ReadOnlySpan<double> keys, ReadOnlySpan<bool> candidates, ReadOnlySpan<double> scores, int count, Span<int> destination)
    {
        var taken = new bool[keys.Length];
        for (int r = 0; r < count; r++)
        {
            int best = -1;
            for (int j = 0; j < keys.Length; j++)
            {
                if (!taken[j] && IsCandidate(scores, candidates, j) && (best < 0 || keys[j] > keys[best]))
                {
                    best = j;
                }
            }

            taken[best] = true;
            destination[r] = best;
        }
    }

    private static double Accumulate(ReadOnlySpan<double> scores, ReadOnlySpan<bool> candidates, ReadOnlySpan<int> order, Span<double> logZ)
    {
        CheckScores(scores, candidates);
        var selected = new bool[scores.Length];
        foreach (int s in order)
        {
            if (s < 0 || s >= scores.Length)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(order), s, $"must hold indices in [0, {scores.Length})");
            }

            if (selected[s])
            {
                ThrowHelper.ThrowArgument(nameof(order), $"selects {s} twice.");
            }

            if (!IsCandidate(scores, candidates, s))
            {
                ThrowHelper.ThrowArgument(nameof(order), $"selects {s}, which is not a candidate.");
            }

            selected[s] = true;
        }

        // Lambda = LSE over the unselected candidates, then add the selected ones back in reverse order.
        double max = double.NegativeInfinity;
        for (int j = 0; j < scores.Length; j++)
        {
            if (!selected[j] && IsCandidate(scores, candidates, j))
            {
                max = Math.Max(max, scores[j]);
            }
        }

        double lambda = double.NegativeInfinity;
        if (!double.IsNegativeInfinity(max))
        {
            double sum = 0;
            for (int j = 0; j < scores.Length; j++)
            {
                if (!selected[j] && IsCandidate(scores, candidates, j))
                {
                    sum += Math.Exp(scores[j] - max);
                }
            }

            lambda = max + Math.Log(sum);
        }

        double logP = 0;
        for (int r = order.Length - 1; r >= 0; r--)
        {
            double h = scores[order[r]];
            lambda = LogAddExp(lambda, h);
            logZ[r] = lambda;
            logP += h - lambda;
        }

        return logP;
    }
}
