
namespace Logits.Diffusion;

/// <summary>The output of a discrete-diffusion sampler: the sequences, the reveal log and the network-call counts.</summary>
public sealed class DiffusionResult
{
    internal DiffusionResult(int[] tokens, int sequences, int length, int[] revealSteps, int[] evaluations)
    {
        Tokens = tokens;
        Sequences = sequences;
        Length = length;
        RevealSteps = revealSteps;
        FunctionEvaluations = evaluations;
        long total = 0;
        foreach (int e in evaluations)
        {
            total += e;
        }

        TotalFunctionEvaluations = total;
    }

    /// <summary>The sampled sequences, <c>Sequences × Length</c> ids, row-major.</summary>
    public int[] Tokens { get; }

    /// <summary>The number of sequences.</summary>
    public int Sequences { get; }

    /// <summary>The length of each sequence.</summary>
    public int Length { get; }

    /// <summary>For every position, the step at which it was revealed, or −1 when it was not masked at the start.</summary>
    public int[] RevealSteps { get; }

    /// <summary>Network calls per sequence (NFE, docs/algorithms/discrete-diffusion.md#caching-and-nfe).</summary>
    public int[] FunctionEvaluations { get; }

    /// <summary>The sum of <see cref="FunctionEvaluations"/>: the NFE a batch reports.</summary>
    public long TotalFunctionEvaluations { get; }

    /// <summary>One sequence's tokens.</summary>
    /// <param name="sequence">The sequence index.</param>
    /// <returns>A view of <see cref="Tokens"/>.</returns>
    public ReadOnlySpan<int> Sequence(int sequence) => Tokens.AsSpan(sequence * Length, Length);
}
