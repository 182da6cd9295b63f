
namespace Logits.Diffusion;

/// <summary>One DCoLT unmasking step: which positions were revealed (in selection order), with which tokens, and the policy log-probability.</summary>
public sealed class DcoltAction
{
    internal DcoltAction(int[] positions, int[] tokens, double selectionLogProbability, double tokenLogProbability)
    {
        Positions = positions;
        Tokens = tokens;
        SelectionLogProbability = selectionLogProbability;
        TokenLogProbability = tokenLogProbability;
    }

    /// <summary>The revealed positions, in Plackett–Luce selection order.</summary>
    public ReadOnlyMemory<int> Positions { get; }

    /// <summary>The token placed at each of <see cref="Positions"/>.</summary>
    public ReadOnlyMemory<int> Tokens { get; }

    /// <summary>The Plackett–Luce term <c>ln P_PL</c> (0 on the forced final step of a block).</summary>
    public double SelectionLogProbability { get; }

    /// <summary><c>ln π_tok = Σ_{i selected} ln softmax(ℓ_i/T)[x_i]</c>.</summary>
    public double TokenLogProbability { get; }

    /// <summary>The action log-probability <c>ln π(a | x) = ln P_PL + ln π_tok</c> an RL trainer needs.</summary>
    public double LogProbability => SelectionLogProbability + TokenLogProbability;
}
