
namespace Logits.Diffusion;

/// <summary>Group-normalised advantages for policy-gradient training of unmasking policies (DCoLT recipe).</summary>
public static class Advantage
{
    /// <summary>The default ε added to the standard deviation.</summary>
    public const double DefaultEpsilon = 1e-4;

    /// <summary><c>A_i = (R_i − mean)/(std + ε)</c> with the unbiased standard deviation over one prompt's rollouts.</summary>
    /// <param name="rewards">The group's rewards, at least two.</param>
    /// <param name="destination">Receives the advantages, same length.</param>
    /// <param name="epsilon">ε &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than two rewards, or ε ≤ 0.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has a different length.</exception>
    /// <remarks>Source: Huang et al. (DCoLT), arXiv 2505.10446, and the official LLaDOU code (8 generations × 2 repeats per prompt).</remarks>
    public static void GroupNormalise(ReadOnlySpan<double> rewards, Span<double> destination, double epsilon = DefaultEpsilon)
    {
        if (rewards.Length < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(rewards), rewards.Length, "must hold at least two rewards (the unbiased standard deviation needs two)");
        }

        if (!(epsilon > 0.0 && double.IsFinite(epsilon)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(epsilon), epsilon, "must be positive and finite");
        }

        if (destination.Length != rewards.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has length {destination.Length} but there are {rewards.Length} rewards.");
        }

        double mean = 0;
        foreach (double r in rewards)
        {
            mean += r;
        }

        mean /= rewards.Length;
        double squares = 0;
        foreach (double r in rewards)
        {
            squares += (r - mean) * (r - mean);
        }

        double std = Math.Sqrt(squares / (rewards.Length - 1));
        for (int i = 0; i < rewards.Length; i++)
        {
            destination[i] = (rewards[i] - mean) / (std + epsilon);
        }
    }
}
