using System;
using System.Collections.Generic;
using Logits.Generation;
using Logits.Pipelines;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>The result of an exact-match evaluation.</summary>
/// <param name="Correct">Problems whose whole answer matched.</param>
/// <param name="Total">Problems evaluated.</param>
/// <param name="Examples">Up to a few wrong answers, as <c>"prompt → predicted (expected)"</c>.</param>
/// <param name="Outcomes">Per problem, in order, whether the answer was exactly right.</param>
public sealed record EvaluationResult(int Correct, int Total, IReadOnlyList<string> Examples, IReadOnlyList<bool> Outcomes)
{
    /// <summary>The exact-match accuracy in <c>[0, 1]</c>.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;
}

/// <summary>Exact-match accuracy by greedy generation through the library's <see cref="TokenGenerator"/>.</summary>
public static class Evaluation
{
    /// <summary>
    /// Generates each answer greedily from its prompt (stopping at the end token or after
    /// <paramref name="maxAnswerTokens"/> tokens) and counts the problems whose answer matches exactly, digit for digit,
    /// followed by the end token.
    /// </summary>
    /// <param name="model">Any language model over <see cref="CharTokenizer"/>'s vocabulary (the Pilot alone, or later a fused model).</param>
    /// <param name="problems">The problems.</param>
    /// <param name="maxAnswerTokens">The generation budget, the end token included.</param>
    /// <param name="pipeline">The sampling pipeline; <see langword="null"/> means greedy.</param>
    /// <param name="beforeEach">Runs before each problem (e.g. to reset a stateful model's decoding state).</param>
    /// <returns>The counts and a few wrong answers.</returns>
    public static EvaluationResult ExactMatch(ILanguageModel model, IReadOnlyList<ArithmeticProblem> problems, int maxAnswerTokens, LogitPipeline? pipeline = null, Action? beforeEach = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(problems);
        var generator = new TokenGenerator(
            model,
            pipeline ?? LogitPipeline.CreateBuilder().Greedy(),
            new GenerationOptions { MaxNewTokens = maxAnswerTokens, EosTokenIds = new[] { CharTokenizer.End } });
        int correct = 0;
        var examples = new List<string>();
        var outcomes = new List<bool>(problems.Count);
        foreach (var problem in problems)
        {
            beforeEach?.Invoke();
            var result = generator.Generate(CharTokenizer.Encode(problem.Prompt));
            string predicted = CharTokenizer.Decode(result.Tokens);
            bool right = result.StopReason == StopReason.EndOfSequence && predicted == problem.Answer;
            outcomes.Add(right);
            if (right)
            {
                correct++;
            }
            else if (examples.Count < 5)
            {
                examples.Add($"{problem.Prompt} → {predicted}{(result.StopReason == StopReason.EndOfSequence ? string.Empty : "…")} ({problem.Answer})");
            }
        }

        return new EvaluationResult(correct, problems.Count, examples, outcomes);
    }
}
