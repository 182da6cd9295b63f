using System;
using System.Collections.Generic;
using System.Globalization;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>One problem: <c>A + B</c> or <c>A − B</c> (with <c>A ≥ B</c>, so answers are never negative).</summary>
/// <param name="A">The left operand.</param>
/// <param name="Operator"><c>'+'</c> or <c>'-'</c>.</param>
/// <param name="B">The right operand.</param>
public sealed record ArithmeticProblem(int A, char Operator, int B)
{
    /// <summary>The model's input, e.g. <c>"123+456="</c>.</summary>
    public string Prompt => string.Create(CultureInfo.InvariantCulture, $"{A}{Operator}{B}=");

    /// <summary>The answer digits, e.g. <c>"579"</c>.</summary>
    public string Answer => (Operator == '+' ? A + B : A - B).ToString(CultureInfo.InvariantCulture);

    /// <summary>The whole training sequence: prompt, answer and the end token, e.g. <c>"123+456=579$"</c>.</summary>
    public string Text => Prompt + Answer + CharTokenizer.Alphabet[CharTokenizer.End];
}

/// <summary>
/// A synthetic character-level data set of multi-digit additions and subtractions, split into training and test
/// problems <b>by operand values</b>: no test pair of operands is ever used in training, in either order or operation.
/// </summary>
/// <remarks>
/// <para>Operands are drawn uniformly from <c>[0, 10^MaxDigits)</c>; the operator is <c>+</c> or <c>−</c> with equal
/// probability, and a subtraction puts the larger operand first. The split depends only on the unordered pair
/// <c>{a, b}</c>: a SplitMix64 hash of <c>(min, max)</c> and <see cref="SplitSeed"/> sends the pair to the test side
/// with probability <see cref="TestFraction"/>. So <c>a+b</c>, <c>b+a</c> and <c>max−min</c> always land on the same
/// side, and a model can only answer a test problem by having learned the algorithm.</para>
/// <para>A further share <see cref="ValidationFraction"/> of the pairs (the next slice of the same hash) is carved out of
/// the training side as a <b>validation</b> split: never trained on and never tested, it is where the Copilot's λ is
/// chosen, so the test split is used for reporting only.</para>
/// <para>The test and validation sets are fixed lists of distinct problems drawn from their pairs with
/// <see cref="SplitSeed"/>; training problems are drawn on the fly (rejecting test and validation pairs) from the
/// caller's generator.</para>
/// </remarks>
public sealed class ArithmeticDataset
{
    /// <summary>The split seed used by the sample: the data set is the same for every training seed.</summary>
    public const ulong DefaultSplitSeed = 20250516;

    private readonly List<ArithmeticProblem> _test;
    private readonly List<ArithmeticProblem> _validation;
    private readonly int _operandLimit;

    /// <summary>Builds the split and the test set.</summary>
    /// <param name="maxDigits">Digits per operand, 1 to 4.</param>
    /// <param name="testFraction">The share of operand pairs held out, in <c>(0, 0.5]</c>.</param>
    /// <param name="testSize">The number of distinct test problems, at least 1 and at most a quarter of the held-out problems.</param>
    /// <param name="splitSeed">Seeds the split hash and the test-set draw.</param>
    /// <param name="validationFraction">The share of operand pairs carved out of the training side for validation, in <c>(0, 0.5]</c>.</param>
    /// <param name="validationSize">The number of distinct validation problems, at least 1 and at most a quarter of the validation problems.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public ArithmeticDataset(int maxDigits = 3, double testFraction = 0.1, int testSize = 500, ulong splitSeed = DefaultSplitSeed, double validationFraction = 0.1, int validationSize = 300)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDigits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDigits, 4);
        if (!(testFraction > 0 && testFraction <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "Must be in (0, 0.5].");
        }

        if (!(validationFraction > 0 && validationFraction <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Must be in (0, 0.5].");
        }

        _operandLimit = (int)Math.Pow(10, maxDigits);
        double heldOut = (double)_operandLimit * _operandLimit * 2 * testFraction;
        double validationProblems = (double)_operandLimit * _operandLimit * 2 * validationFraction;
        ArgumentOutOfRangeException.ThrowIfLessThan(validationSize, 1);
        if (validationSize > validationProblems / 4)
        {
            throw new ArgumentOutOfRangeException(nameof(validationSize), validationSize, $"Must be at most {(int)(validationProblems / 4)} for {maxDigits} digits and validation fraction {validationFraction}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(testSize, 1);
        if (testSize > heldOut / 4)
        {
            throw new ArgumentOutOfRangeException(nameof(testSize), testSize, $"Must be at most {(int)(heldOut / 4)} for {maxDigits} digits and test fraction {testFraction}.");
        }

        MaxDigits = maxDigits;
        TestFraction = testFraction;
        ValidationFraction = validationFraction;
        SplitSeed = splitSeed;

        var random = new Random(unchecked((int)splitSeed));
        var seen = new HashSet<ArithmeticProblem>();
        _test = new List<ArithmeticProblem>(testSize);
        while (_test.Count < testSize)
        {
            var problem = Draw(random);
            if (IsTestPair(problem.A, problem.B) && seen.Add(problem))
            {
                _test.Add(problem);
            }
        }

        // Drawn after the test set from the same generator, so adding the validation split left the test set unchanged.
        _validation = new List<ArithmeticProblem>(validationSize);
        while (_validation.Count < validationSize)
        {
            var problem = Draw(random);
            if (IsValidationPair(problem.A, problem.B) && seen.Add(problem))
            {
                _validation.Add(problem);
            }
        }
    }

    /// <summary>Digits per operand.</summary>
    public int MaxDigits { get; }

    /// <summary>The share of operand pairs held out for testing.</summary>
    public double TestFraction { get; }

    /// <summary>The share of operand pairs carved out of the training side for validation.</summary>
    public double ValidationFraction { get; }

    /// <summary>The fixed validation problems (distinct, all from validation pairs: never trained on, never tested).</summary>
    public IReadOnlyList<ArithmeticProblem> Validation => _validation;

    /// <summary>The seed of the split hash and the test-set draw.</summary>
    public ulong SplitSeed { get; }

    /// <summary>The fixed test problems (distinct, all from held-out operand pairs).</summary>
    public IReadOnlyList<ArithmeticProblem> Test => _test;

    /// <summary>The longest token sequence, <c>"999+999=1998$"</c> for 3 digits: <c>3·MaxDigits + 4</c>.</summary>
    public int MaxSequenceLength => (3 * MaxDigits) + 4;

    /// <summary>The most answer tokens a model must generate, the end token included: <c>MaxDigits + 2</c>.</summary>
    public int MaxAnswerTokens => MaxDigits + 2;

    /// <summary>Whether the unordered operand pair <c>{a, b}</c> is held out for testing.</summary>
    /// <param name="a">One operand.</param>
    /// <param name="b">The other operand.</param>
    /// <returns><see langword="true"/> for a test pair.</returns>
    public bool IsTestPair(int a, int b) => PairHash(a, b) < TestFraction;

    /// <summary>Whether the unordered operand pair <c>{a, b}</c> is carved out for validation (never a test pair).</summary>
    /// <param name="a">One operand.</param>
    /// <param name="b">The other operand.</param>
    /// <returns><see langword="true"/> for a validation pair.</returns>
    public bool IsValidationPair(int a, int b)
    {
        double u = PairHash(a, b);
        return u >= TestFraction && u < TestFraction + ValidationFraction;
    }

    /// <summary>Draws a training problem (never from a test or validation pair).</summary>
    /// <param name="random">The generator that orders the training data.</param>
    /// <returns>A problem whose operand pair is on the training side.</returns>
    public ArithmeticProblem SampleTraining(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        while (true)
        {
            var problem = Draw(random);
            if (PairHash(problem.A, problem.B) >= TestFraction + ValidationFraction)
            {
                return problem;
            }
        }
    }

    /// <summary>
    /// Encodes problems for teacher-forced training: inputs <c>[B, L−1]</c> are the sequences without their last token and
    /// targets <c>[B, L−1]</c> are the next tokens, with <paramref name="ignoreIndex"/> everywhere except the answer digits
    /// and the end token (the prompt <c>"a+b="</c> is input only; padding is never a target).
    /// </summary>
    /// <param name="problems">The batch.</param>
    /// <param name="ignoreIndex">The target value the loss skips.</param>
    /// <returns>Row-major inputs and targets, both <c>problems.Count × (MaxSequenceLength − 1)</c>.</returns>
    public (long[] Inputs, long[] Targets) EncodeBatch(IReadOnlyList<ArithmeticProblem> problems, long ignoreIndex = -100)
    {
        ArgumentNullException.ThrowIfNull(problems);
        int width = MaxSequenceLength - 1;
        var inputs = new long[problems.Count * width];
        var targets = new long[problems.Count * width];
        Array.Fill(targets, ignoreIndex);
        for (int row = 0; row < problems.Count; row++)
        {
            int[] ids = CharTokenizer.Encode(problems[row].Text);
            int promptLength = problems[row].Prompt.Length;
            for (int k = 0; k < ids.Length - 1; k++)
            {
                inputs[(row * width) + k] = ids[k];

                // Position k predicts token k + 1; only answer tokens (after '=') are targets.
                if (k + 1 >= promptLength)
                {
                    targets[(row * width) + k] = ids[k + 1];
                }
            }
        }

        return (inputs, targets);
    }

    private ArithmeticProblem Draw(Random random)
    {
        int a = random.Next(_operandLimit), b = random.Next(_operandLimit);
        char op = random.Next(2) == 0 ? '+' : '-';
        return op == '-' && a < b ? new ArithmeticProblem(b, op, a) : new ArithmeticProblem(a, op, b);
    }

    /// <summary>The pair's uniform hash in <c>[0, 1)</c>: below <see cref="TestFraction"/> is test, the next
    /// <see cref="ValidationFraction"/> is validation, the rest is training.</summary>
    private double PairHash(int a, int b)
    {
        ulong low = (ulong)Math.Min(a, b), high = (ulong)Math.Max(a, b);
        ulong hash = SplitMix64(SplitMix64(SplitSeed ^ low) ^ (high * 0x9E3779B97F4A7C15UL));
        return (hash >> 11) * (1.0 / (1UL << 53));
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
