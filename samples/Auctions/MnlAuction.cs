using System;
using Logits.Choice;

namespace Logits.Samples.Auctions;

/// <summary>
/// Welfare maximisation and VCG payments for position auctions in which clicks follow a multinomial-logit (MNL) model
/// with an outside ("no click") option.
/// </summary>
/// <remarks>
/// <para>Model (Balseiro et al., <i>Position Auctions in AI-Generated Content</i>, arXiv 2506.03309): n advertisers,
/// m slots, at most K ads shown, each advertiser in at most one slot and each slot holding at most one advertiser.
/// Advertiser i in slot j has MNL weight <c>w_ij = e^{ρ_ij}</c> and value per click <c>v_i ≥ 0</c>; with outside weight
/// <c>w_0 = e^{ρ_0}</c> (1 in the paper) an allocation x gets clicks</para>
/// <code>
/// π_i(x) = Σ_j x_ij·w_ij / (w_0 + Σ_{i′,j′} x_{i′j′}·w_{i′j′})          (Mnl.ChoiceProbabilities with ρ = ln w)
/// W(x)   = Σ_i v_i·π_i(x) = N(x)/D(x),  N = Σ x_ij·w_ij·v_i,  D = w_0 + Σ x_ij·w_ij
/// </code>
/// <para>Welfare maximisation is a fractional program, solved by Dinkelbach's method (the paper's own algorithms are
/// not reproduced; this is the library's standard choice): from λ₀ = 0, solve the matching
/// <c>x_k = argmax Σ x_ij·c_ij</c> with <c>c_ij = max(0, w_ij·(v_i − λ_k))</c> and at most K edges
/// (<see cref="Assignment.MaxWeightAtMostK"/>), evaluate <c>F(λ_k) = N(x_k) − λ_k·D(x_k)</c>, stop when
/// <c>F ≤ 1e-12·max(1, λ_k)</c>, else set <c>λ_{k+1} = N(x_k)/D(x_k)</c>. F is convex and decreasing with its root at the
/// optimal welfare, so the iteration ends after a handful of updates (more than 1000 throw
/// <see cref="InvalidOperationException"/>). Clipping at 0 means an ad with <c>v_i ≤ λ*</c> is never shown: because of
/// the substitution effect, showing fewer than K ads can be optimal.</para>
/// <para>VCG payments: <c>t_i = W*_{−i} − Σ_{k≠i} v_k·π_k(x*)</c>, with <c>W*_{−i}</c> re-solved without i; they satisfy
/// <c>0 ≤ t_i ≤ v_i·π_i(x*)</c> and equal the Myerson payment <c>v_i·π_i(v) − ∫_0^{v_i} π_i(z, v_{−i}) dz</c>. Ties
/// between optimal allocations make VCG payments depend on the allocation; the solver returns the first optimum found
/// (lowest indices first).</para>
/// </remarks>
public static class MnlAuction
{
    private const int MaxIterations = 1000;

    /// <summary>The welfare-maximising allocation.</summary>
    /// <param name="weights">w, <c>[n, m]</c>, n, m ≥ 1, finite and ≥ 0 (0 = the pair is not allowed).</param>
    /// <param name="values">v, n values per click, finite and ≥ 0.</param>
    /// <param name="maxAds">K ≥ 0 (K = 0 shows nothing).</param>
    /// <param name="outsideWeight">w_0 = e^{ρ_0}, finite and &gt; 0 (1 for ρ_0 = 0).</param>
    /// <returns>The allocation, its welfare, click probabilities and the Dinkelbach update count.</returns>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentException">The shapes do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A weight, value, K or w_0 is outside its range.</exception>
    /// <exception cref="InvalidOperationException">Dinkelbach's method did not stop within 1000 updates.</exception>
    public static WelfareSolution SolveWelfare(double[,] weights, double[] values, int maxAds, double outsideWeight = 1)
    {
        Validate(weights, values, maxAds, outsideWeight);
        return Solve(weights, values, maxAds, outsideWeight, excluded: -1);
    }

    /// <summary>The welfare-maximising allocation and the VCG payments.</summary>
    /// <param name="weights">w, <c>[n, m]</c>, finite and ≥ 0.</param>
    /// <param name="values">v, n values per click, finite and ≥ 0.</param>
    /// <param name="maxAds">K ≥ 0.</param>
    /// <param name="outsideWeight">w_0, finite and &gt; 0.</param>
    /// <returns>The allocation and, per advertiser, payment, price per click and W*_{−i}.</returns>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentException">The shapes do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A weight, value, K or w_0 is outside its range.</exception>
    /// <exception cref="InvalidOperationException">Dinkelbach's method did not stop within 1000 updates.</exception>
    public static VcgOutcome VcgPayments(double[,] weights, double[] values, int maxAds, double outsideWeight = 1)
    {
        Validate(weights, values, maxAds, outsideWeight);
        var solution = Solve(weights, values, maxAds, outsideWeight, excluded: -1);
        int n = values.Length;
        var payments = new double[n];
        var prices = new double[n];
        var without = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (solution.SlotOfAd[i] < 0)
            {
                without[i] = solution.Welfare;
                continue;
            }

            without[i] = Solve(weights, values, maxAds, outsideWeight, excluded: i).Welfare;
            double others = solution.Welfare - (values[i] * solution.ClickProbabilities[i]);
            payments[i] = without[i] - others;
            prices[i] = payments[i] / solution.ClickProbabilities[i];
        }

        return new VcgOutcome(solution, payments, prices, without);
    }

    /// <summary>The welfare of a given allocation, <c>W(x) = N(x)/D(x)</c>.</summary>
    /// <param name="weights">w, <c>[n, m]</c>.</param>
    /// <param name="values">v, n values.</param>
    /// <param name="slotOfAd">For each advertiser its slot or −1; slots must be distinct and allowed (w &gt; 0).</param>
    /// <param name="outsideWeight">w_0 &gt; 0.</param>
    /// <returns>W(x).</returns>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentException">The shapes do not fit, or the allocation uses a slot twice or a disallowed pair.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A weight, value or w_0 is outside its range.</exception>
    public static double Welfare(double[,] weights, double[] values, int[] slotOfAd, double outsideWeight = 1)
    {
        Validate(weights, values, 0, outsideWeight);
        ArgumentNullException.ThrowIfNull(slotOfAd);
        if (slotOfAd.Length != values.Length)
        {
            throw new ArgumentException($"'slotOfAd' has {slotOfAd.Length} entries but there are {values.Length} advertisers.", nameof(slotOfAd));
        }

        var used = new bool[weights.GetLength(1)];
        for (int i = 0; i < slotOfAd.Length; i++)
        {
            int j = slotOfAd[i];
            if (j < 0)
            {
                continue;
            }

            if (j >= used.Length || used[j] || weights[i, j] == 0)
            {
                throw new ArgumentException($"'slotOfAd' places advertiser {i} in slot {j}, which is out of range, taken or not allowed.", nameof(slotOfAd));
            }

            used[j] = true;
        }

        var (numerator, denominator) = Fraction(weights, values, slotOfAd, outsideWeight);
        return numerator / denominator;
    }

    private static WelfareSolution Solve(double[,] weights, double[] values, int maxAds, double outsideWeight, int excluded)
    {
        int n = weights.GetLength(0), m = weights.GetLength(1);
        var costs = new double[n, m];
        double lambda = 0;
        int iterations = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < m; j++)
                {
                    // c_ij = max(0, w_ij·(v_i − λ)); an excluded advertiser gets no allowed pair.
                    costs[i, j] = i == excluded ? 0 : Math.Max(0, weights[i, j] * (values[i] - lambda));
                }
            }

            var slotOfAd = Assignment.Solve(costs, maxAds);
            var (numerator, denominator) = Fraction(weights, values, slotOfAd, outsideWeight);
            double f = numerator - (lambda * denominator);
            if (f <= 1e-12 * Math.Max(1, lambda))
            {
                return Describe(weights, slotOfAd, numerator, denominator, outsideWeight, iterations);
            }

            if (++iterations > MaxIterations)
            {
                throw new InvalidOperationException($"Dinkelbach's method did not converge within {MaxIterations} updates (λ = {lambda}, F = {f}).");
            }

            lambda = numerator / denominator;
        }
    }

    private static (double Numerator, double Denominator) Fraction(double[,] weights, double[] values, int[] slotOfAd, double outsideWeight)
    {
        double numerator = 0, denominator = outsideWeight;
        for (int i = 0; i < slotOfAd.Length; i++)
        {
            int j = slotOfAd[i];
            if (j >= 0)
            {
                numerator += weights[i, j] * values[i];
                denominator += weights[i, j];
            }
        }

        return (numerator, denominator);
    }

    private static WelfareSolution Describe(double[,] weights, int[] slotOfAd, double numerator, double denominator, double outsideWeight, int iterations)
    {
        // The click probabilities are the MNL choice probabilities of the shown ads with ρ = ln w.
        int shown = 0;
        foreach (int j in slotOfAd)
        {
            shown += j >= 0 ? 1 : 0;
        }

        var logits = new double[shown];
        int next = 0;
        for (int i = 0; i < slotOfAd.Length; i++)
        {
            if (slotOfAd[i] >= 0)
            {
                logits[next++] = Math.Log(weights[i, slotOfAd[i]]);
            }
        }

        var shownProbabilities = new double[shown];
        double outside = Mnl.ChoiceProbabilities(logits, shownProbabilities, Math.Log(outsideWeight));
        var clicks = new double[slotOfAd.Length];
        next = 0;
        for (int i = 0; i < slotOfAd.Length; i++)
        {
            if (slotOfAd[i] >= 0)
            {
                clicks[i] = shownProbabilities[next++];
            }
        }

        return new WelfareSolution(slotOfAd, numerator / denominator, clicks, outside, iterations);
    }

    private static void Validate(double[,] weights, double[] values, int maxAds, double outsideWeight)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(values);
        int n = weights.GetLength(0), m = weights.GetLength(1);
        if (n < 1 || m < 1)
        {
            throw new ArgumentException($"'weights' is {n} × {m}; at least one advertiser and one slot are required.", nameof(weights));
        }

        if (values.Length != n)
        {
            throw new ArgumentException($"'values' has {values.Length} entries but 'weights' has {n} advertisers (rows).", nameof(values));
        }

        foreach (double w in weights)
        {
            if (!(w >= 0) || double.IsPositiveInfinity(w))
            {
                throw new ArgumentOutOfRangeException(nameof(weights), w, "'weights' must hold finite values ≥ 0 (0 = pair not allowed).");
            }
        }

        foreach (double v in values)
        {
            if (!(v >= 0) || double.IsPositiveInfinity(v))
            {
                throw new ArgumentOutOfRangeException(nameof(values), v, "'values' must hold finite values ≥ 0.");
            }
        }

        if (maxAds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxAds), maxAds, "'maxAds' must be at least 0.");
        }

        if (!(outsideWeight > 0) || double.IsPositiveInfinity(outsideWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(outsideWeight), outsideWeight, "'outsideWeight' must be finite and greater than 0.");
        }
    }
}
