using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using Logits.Samples.CopilotArithmetic;
using Xunit;

namespace Logits.TorchSharp.Tests.Samples;

/// <summary>The CopilotArithmetic sample's data: the operand-pair split is disjoint and the tokenizer round-trips.</summary>
public sealed class CopilotArithmeticTests
{
    [Fact]
    public void Split_by_operand_pair_is_disjoint_symmetric_and_near_the_requested_fraction()
    {
        var dataset = new ArithmeticDataset(maxDigits: 2, testFraction: 0.2, testSize: 100);

        // Exhaustively over all 100 × 100 ordered pairs: the side depends on the unordered pair only.
        int held = 0;
        for (int a = 0; a < 100; a++)
        {
            for (int b = 0; b < 100; b++)
            {
                dataset.IsTestPair(a, b).Should().Be(dataset.IsTestPair(b, a));
                held += dataset.IsTestPair(a, b) ? 1 : 0;
            }
        }

        (held / 10_000.0).Should().BeInRange(0.17, 0.23, "about 20% of pairs are held out");

        dataset.Test.Should().HaveCount(100).And.OnlyHaveUniqueItems();
        dataset.Test.Should().OnlyContain(p => dataset.IsTestPair(p.A, p.B));
        var testPairs = new HashSet<(int, int)>(dataset.Test.Select(p => (Math.Min(p.A, p.B), Math.Max(p.A, p.B))));
        var random = new Random(5);
        for (int i = 0; i < 20_000; i++)
        {
            var p = dataset.SampleTraining(random);
            dataset.IsTestPair(p.A, p.B).Should().BeFalse();
            testPairs.Should().NotContain((Math.Min(p.A, p.B), Math.Max(p.A, p.B)));
            (p.Operator == '+' || p.A >= p.B).Should().BeTrue("subtraction puts the larger operand first");
        }

        // The split is fixed by its seed and changes with it.
        var same = new ArithmeticDataset(maxDigits: 2, testFraction: 0.2, testSize: 100);
        same.Test.Should().Equal(dataset.Test);
        var other = new ArithmeticDataset(maxDigits: 2, testFraction: 0.2, testSize: 100, splitSeed: 7);
        Enumerable.Range(0, 100).Count(a => other.IsTestPair(a, 3) != dataset.IsTestPair(a, 3)).Should().BeGreaterThan(0);
    }

    [Fact]
    public void Problems_encode_prompt_as_input_and_answer_as_targets()
    {
        var problem = new ArithmeticProblem(305, '-', 47);
        problem.Text.Should().Be("305-47=258$");
        new ArithmeticProblem(999, '+', 999).Text.Should().HaveLength(new ArithmeticDataset().MaxSequenceLength);

        var dataset = new ArithmeticDataset(maxDigits: 3, testSize: 10);
        var (inputs, targets) = dataset.EncodeBatch(new[] { problem }, ignoreIndex: -100);
        inputs.Should().HaveCount(12);
        CharTokenizer.Decode(inputs.Take(10).Select(i => (int)i)).Should().Be("305-47=258");
        inputs.Skip(10).Should().OnlyContain(i => i == CharTokenizer.Pad);

        // Position k predicts token k + 1: targets are the answer "258" and the end token, after '=' at position 6.
        targets.Take(6).Should().OnlyContain(t => t == -100);
        CharTokenizer.Decode(targets.Skip(6).Take(4).Select(t => (int)t)).Should().Be("258$");
        targets.Skip(10).Should().OnlyContain(t => t == -100);
    }

    [Fact]
    public void Tokenizer_round_trips_and_rejects_foreign_symbols()
    {
        CharTokenizer.VocabSize.Should().Be(CharTokenizer.Alphabet.Length);
        CharTokenizer.Encode(CharTokenizer.Alphabet).Should().Equal(Enumerable.Range(0, CharTokenizer.VocabSize));
        foreach (string text in new[] { "123+456=579$", "305-47=258$", "0-0=0$", "_$=+-9876543210" })
        {
            CharTokenizer.Decode(CharTokenizer.Encode(text)).Should().Be(text);
        }

        CharTokenizer.Encode("7=").Should().Equal(9, 14);
        CharTokenizer.End.Should().Be(CharTokenizer.Encode("$")[0]);
        FluentActions.Invoking(() => CharTokenizer.Encode("1*2")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => CharTokenizer.Decode(new[] { 15 })).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Validation_split_is_carved_from_training_pairs_and_disjoint_from_test_and_training()
    {
        var dataset = new ArithmeticDataset(maxDigits: 2, testFraction: 0.1, testSize: 100, validationFraction: 0.1, validationSize: 100);
        int validationPairs = 0;
        for (int a = 0; a < 100; a++)
        {
            for (int b = 0; b < 100; b++)
            {
                dataset.IsValidationPair(a, b).Should().Be(dataset.IsValidationPair(b, a));
                (dataset.IsValidationPair(a, b) && dataset.IsTestPair(a, b)).Should().BeFalse("a pair is on one side only");
                validationPairs += dataset.IsValidationPair(a, b) ? 1 : 0;
            }
        }

        (validationPairs / 10_000.0).Should().BeInRange(0.08, 0.12);
        dataset.Validation.Should().HaveCount(100).And.OnlyHaveUniqueItems();
        dataset.Validation.Should().OnlyContain(p => dataset.IsValidationPair(p.A, p.B));
        var random = new Random(9);
        for (int i = 0; i < 20_000; i++)
        {
            var p = dataset.SampleTraining(random);
            dataset.IsValidationPair(p.A, p.B).Should().BeFalse();
            dataset.IsTestPair(p.A, p.B).Should().BeFalse();
        }

        // The validation draw comes after the test draw: adding it left the test set as it was.
        new ArithmeticDataset(maxDigits: 2, testFraction: 0.1, testSize: 100, validationSize: 5).Test.Should().Equal(dataset.Test);
        FluentActions.Invoking(() => new ArithmeticDataset(maxDigits: 2, validationFraction: 0))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("validationFraction");
        FluentActions.Invoking(() => new ArithmeticDataset(maxDigits: 2, validationSize: 100_000))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("validationSize");
    }

    [Fact]
    public void Quick_run_decreases_the_copilot_loss_keeps_the_pilot_trajectory_and_prints_every_row()
    {
        using var log = new StringWriter();
        var report = ArithmeticExperiment.Run(new[] { "--quick", "--seed", "4", "--lambdas", "0.5,1", "--logit-lambdas", "2", "--frozen-copilot-steps", "20" }, log);
        string text = log.ToString();

        report.Seeds.Should().Equal(4UL);
        report.PilotTrajectoryIdentical.Should().Equal(true);

        // The Copilot's training loss, reported through IProgress every step, falls: mean of the last 20% of steps is
        // clearly below the mean of the first 20%.
        var losses = report.CopilotLosses.Should().ContainSingle().Subject;
        losses.Should().HaveCount(PilotConfig.Quick.Steps).And.OnlyContain(l => double.IsFinite(l) && l >= 0);
        int fifth = losses.Count / 5;
        double first = losses.Take(fifth).Average(), last = losses.Skip(losses.Count - fifth).Average();
        last.Should().BeLessThan(0.95 * first, "the Copilot learns to predict the Pilot's mistakes");

        report.Rows.Select(r => r.Name).Should().Equal(
            "Pilot alone",
            "Pilot+Copilot (λ chosen on validation)",
            "Pilot+Copilot, Probability λ=0.5",
            "Pilot+Copilot, Probability λ=1",
            "Pilot+Copilot, Logit λ=2",
            "Baseline: parameter-matched Pilot (width 40)",
            report.Rows[^1].Name);
        report.Rows[^1].Name.Should().StartWith("Baseline: compute-matched Pilot (");
        report.ChosenLambdas.Should().ContainSingle().Which.Should().BeOneOf("Probability λ=0.5", "Probability λ=1", "Logit λ=2");
        foreach (var row in report.Rows)
        {
            row.Accuracies.Should().ContainSingle().Which.Should().BeInRange(0, 1);
            row.TrainSeconds.Should().OnlyContain(s => s > 0);
            row.InferenceSeconds.Should().OnlyContain(s => s > 0);
            text.Should().Contain($"| {row.Name} | ");
        }

        // The chosen row repeats the sweep row of the chosen setting.
        var chosenRow = report.Rows.Single(r => r.Name == $"Pilot+Copilot, {report.ChosenLambdas[0]}");
        report.Rows[1].Accuracies.Should().Equal(chosenRow.Accuracies);
        report.Rows[1].Parameters.Should().Be(report.Rows[0].Parameters + 7_535);
        report.Rows[^2].Parameters.Should().BeCloseTo(report.Rows[1].Parameters, (uint)(report.Rows[1].Parameters / 10), "the parameter-matched baseline is within 10%");
        text.Should().Contain("| model | seed 4 | mean | sd |").And.Contain("Training-time overhead").And.Contain("inference overhead");
        text.Should().Contain("frozen-Pilot Copilot skill").And.Contain("frozen-Pilot Copilot, Logit λ=2: validation");
    }

    // Issue 14, first contact: unknown or malformed arguments print the usage and exit with 2; --help exits with 0.
    [Theory]
    [InlineData("--bogus")]
    [InlineData("--steps", "many")]
    [InlineData("--lambdas", "1,x")]
    [InlineData("--loss", "mae")]
    [InlineData("--baselines", "all")]
    [InlineData("--seed")]
    public void A_wrong_command_line_prints_the_usage_and_exits_with_2(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        ArithmeticExperiment.Execute(args, output, error).Should().Be(2);
        error.ToString().Should().Contain("Usage:");
        output.ToString().Should().BeEmpty("nothing ran");
    }

    [Fact]
    public void Help_prints_the_usage_and_exits_with_0()
    {
        using var output = new StringWriter();
        ArithmeticExperiment.Execute(new[] { "--help" }, output, TextWriter.Null).Should().Be(0);
        output.ToString().Should().Contain("--frozen-copilot-steps");
    }
}
