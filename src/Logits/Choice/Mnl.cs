
namespace Logits.Choice;

/// <summary>
/// Multinomial-logit (MNL) choice: the probability that a user picks each of several shown items, or none of them (the
/// outside option), from the items' logits. A softmax over the items plus one null item.
/// </summary>
/// <remarks>
/// <para>With item logits <c>ρ_i</c> and the outside option's logit <c>ρ_0</c> (0 by default):</para>
/// <code>
/// π_i = e^{ρ_i} / (e^{ρ_0} + Σ_j e^{ρ_j}),    π_0 = e^{ρ_0} / (e^{ρ_0} + Σ_j e^{ρ_j})
/// </code>
/// <para>Computed as a log-sum-exp over <c>{ρ_0} ∪ {ρ_i}</c> shifted by its maximum (the outside logit included), so
/// logits of ±1000 neither overflow nor lose the finite answer; tiny probabilities underflow to 0 in the linear form
/// while <see cref="LogChoiceProbabilities"/> keeps them. The model is insensitive to display order and is the click
/// model of position auctions in AI-generated content (Balseiro et al., arXiv 2506.03309), where
/// <c>ρ_ij = logit(p_ij)</c> makes a lone item in slot j clicked with probability exactly <c>p_ij</c>
/// (<see cref="LoneItemLogit"/>).</para>
/// <para>Rules: an item logit of −∞ means "not available" (probability 0); NaN or +∞ throw
/// <see cref="InvalidLogitsException"/> (row 0, the item's index, stage <c>"mnl choice"</c>); the outside logit must be
/// finite (use <see cref="ChoiceProbabilitiesWithoutOutside"/> for a plain softmax with no outside option); an empty set
/// of items gives <c>π_0 = 1</c>.</para>
/// </remarks>
public static class Mnl
{
    private const string Stage = "mnl choice";

    /// <summary>Writes the choice probabilities <c>π_i</c> and returns the outside probability <c>π_0</c>.</summary>
    /// <param name="logits">ρ_i, finite or −∞; may be empty.</param>
    /// <param name="destination">Receives π_i; exactly as long as <paramref name="logits"/> (may be the same memory).</param>
    /// <param name="outsideLogit">ρ_0, finite.</param>
    /// <returns>π_0; together with the π_i it sums to 1.</returns>
    /// <exception cref="InvalidLogitsException">A logit is NaN or +∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outsideLogit"/> is not finite.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has a different length.</exception>
    public static double ChoiceProbabilities(ReadOnlySpan<double> logits, Span<double> destination, double outsideLogit = 0)
    {
        double logOutside = LogChoiceProbabilities(logits, destination, outsideLogit);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Math.Exp(destination[i]);
        }

        return Math.Exp(logOutside);
    }

    /// <summary>Writes the log choice probabilities <c>ln π_i = ρ_i − lse(ρ_0, ρ_1, …)</c> and returns <c>ln π_0</c>.</summary>
    /// <param name="logits">ρ_i, finite or −∞; may be empty.</param>
    /// <param name="destination">Receives ln π_i (−∞ for unavailable items); exactly as long as <paramref name="logits"/>.</param>
    /// <param name="outsideLogit">ρ_0, finite.</param>
    /// <returns>ln π_0 ≤ 0.</returns>
    /// <exception cref="InvalidLogitsException">A logit is NaN or +∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outsideLogit"/> is not finite.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has a different length.</exception>
    public static double LogChoiceProbabilities(ReadOnlySpan<double> logits, Span<double> destination, double outsideLogit = 0)
    {
        if (!double.IsFinite(outsideLogit))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(outsideLogit), outsideLogit, "must be finite (use ChoiceProbabilitiesWithoutOutside for no outside option)");
        }

        Check(logits, destination);
        double logTotal = LogSumExp(logits, outsideLogit);
        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = logits[i] - logTotal;
        }

        return outsideLogit - logTotal;
    }

    /// <summary>Writes the plain softmax over the items, with no outside option.</summary>
    /// <param name="logits">ρ_i, finite or −∞, at least one finite.</param>
    /// <param name="destination">Receives the probabilities; exactly as long as <paramref name="logits"/>.</param>
    /// <exception cref="InvalidLogitsException">A logit is NaN or +∞.</exception>
    /// <exception cref="NoViableTokenException">No item is available (empty, or every logit is −∞).</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has a different length.</exception>
    public static void ChoiceProbabilitiesWithoutOutside(ReadOnlySpan<double> logits, Span<double> destination)
    {
        Check(logits, destination);
        double logTotal = LogSumExp(logits, double.NegativeInfinity);
        if (double.IsNegativeInfinity(logTotal))
        {
            ThrowHelper.ThrowNoViableToken(0, Stage);
        }

        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = Math.Exp(logits[i] - logTotal);
        }
    }

    /// <summary>The logit <c>ρ = ln(p/(1 − p))</c> under which an item shown alone (with ρ_0 = 0) is chosen with probability p.</summary>
    /// <param name="probability">p in <c>[0, 1)</c>; 0 gives −∞ (never chosen).</param>
    /// <returns>ρ.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is outside <c>[0, 1)</c>.</exception>
    public static double LoneItemLogit(double probability)
    {
        Require.FractionBelowOne(probability, nameof(probability));

        return Math.Log(probability) - Math.Log(1 - probability);
    }

    private static void Check(ReadOnlySpan<double> logits, Span<double> destination)
    {
        if (destination.Length != logits.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but there are {logits.Length} logits.");
        }

        for (int i = 0; i < logits.Length; i++)
        {
            double value = logits[i];
            if (double.IsNaN(value) || double.IsPositiveInfinity(value))
            {
                throw new InvalidLogitsException(0, i, (float)value, Stage);
            }
        }
    }

    private static double LogSumExp(ReadOnlySpan<double> logits, double outsideLogit)
    {
        double max = outsideLogit;
        foreach (double value in logits)
        {
            max = Math.Max(max, value);
        }

        if (double.IsNegativeInfinity(max))
        {
            return max;
        }

        double sum = Math.Exp(outsideLogit - max);
        foreach (double value in logits)
        {
            sum += Math.Exp(value - max);
        }

        return max + Math.Log(sum);
    }
}
