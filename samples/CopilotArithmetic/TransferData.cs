using System;
using System.Collections.Generic;
using System.Linq;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>
/// The pre-train → fine-tune setting: a source task (2-digit addition, sampled on the fly) for pre-training and a target
/// task (2-digit subtraction) with a fixed fine-tuning set, a validation split and a test split.
/// </summary>
/// <remarks>
/// The sides come from <see cref="ArithmeticDataset"/>'s operand-pair hash: a subtraction problem <c>a − b</c> is test when
/// the unordered pair <c>{a, b}</c> is a test pair, validation when it is a validation pair, training otherwise. Addition
/// pre-training uses training-side pairs only, so no test or validation pair is seen in either task. The test and
/// validation splits are every subtraction problem of their pairs (or a fixed subset when a size is given); the fine-tuning
/// set is a fixed subset of the training-side subtraction problems.
/// </remarks>
public sealed class TransferData
{
    /// <summary>Builds the splits.</summary>
    /// <param name="targetSize">Fine-tuning problems (fixed set).</param>
    /// <param name="validationSize">Validation problems (at most all of them).</param>
    /// <param name="testSize">Test problems (at most all of them).</param>
    /// <param name="splitSeed">Seeds the pair hash and the subsets.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or above what the split holds.</exception>
    public TransferData(int targetSize = 2000, int validationSize = 400, int testSize = 1000, ulong splitSeed = ArithmeticDataset.DefaultSplitSeed)
    {
        Split = new ArithmeticDataset(maxDigits: 2, testFraction: 0.2, testSize: 1, splitSeed: splitSeed, validationFraction: 0.1, validationSize: 1);
        var test = new List<ArithmeticProblem>();
        var validation = new List<ArithmeticProblem>();
        var training = new List<ArithmeticProblem>();
        for (int a = 0; a < 100; a++)
        {
            for (int b = 0; b <= a; b++)
            {
                var problem = new ArithmeticProblem(a, '-', b);
                (Split.IsTestPair(a, b) ? test : Split.IsValidationPair(a, b) ? validation : training).Add(problem);
            }
        }

        var random = new Random(unchecked((int)splitSeed));
        Test = Subset(test, testSize, random, nameof(testSize));
        Validation = Subset(validation, validationSize, random, nameof(validationSize));
        Target = Subset(training, targetSize, random, nameof(targetSize));
        TrainingSideSubtractions = training.Count;
    }

    /// <summary>The pair split shared with <see cref="ArithmeticDataset"/>.</summary>
    public ArithmeticDataset Split { get; }

    /// <summary>The fixed fine-tuning problems (target task, training pairs).</summary>
    public IReadOnlyList<ArithmeticProblem> Target { get; }

    /// <summary>The validation problems (target task), on which λ is chosen.</summary>
    public IReadOnlyList<ArithmeticProblem> Validation { get; }

    /// <summary>The held-out test problems (target task), the same for every seed and arm.</summary>
    public IReadOnlyList<ArithmeticProblem> Test { get; }

    /// <summary>How many training-side subtraction problems exist (the fine-tuning set is drawn from them).</summary>
    public int TrainingSideSubtractions { get; }

    /// <summary>The longest sequence, <c>"99+99=198$"</c>.</summary>
    public int MaxSequenceLength => Split.MaxSequenceLength;

    /// <summary>The most answer tokens, the end token included.</summary>
    public int MaxAnswerTokens => Split.MaxAnswerTokens;

    /// <summary>A source-task (addition) problem on a training-side pair.</summary>
    /// <param name="random">The data-order generator.</param>
    /// <returns>An addition problem.</returns>
    public ArithmeticProblem SampleSource(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        while (true)
        {
            int a = random.Next(100), b = random.Next(100);
            if (!Split.IsTestPair(a, b) && !Split.IsValidationPair(a, b))
            {
                return new ArithmeticProblem(a, '+', b);
            }
        }
    }

    private static List<ArithmeticProblem> Subset(List<ArithmeticProblem> all, int size, Random random, string name)
    {
        if (size < 1 || size > all.Count)
        {
            throw new ArgumentOutOfRangeException(name, size, $"Must be in [1, {all.Count}].");
        }

        if (size == all.Count)
        {
            return all;
        }

        var copy = all.ToArray();
        random.Shuffle(copy);
        return copy.Take(size).ToList();
    }
}
