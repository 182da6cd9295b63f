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
    public void Transfer_data_keeps_held_out_pairs_out_of_pretraining_and_finetuning()
    {
        var data = new TransferData(targetSize: 300, validationSize: 100, testSize: 200);
        data.Test.Should().HaveCount(200).And.OnlyHaveUniqueItems().And.OnlyContain(p => p.Operator == '-' && data.Split.IsTestPair(p.A, p.B));
        data.Validation.Should().HaveCount(100).And.OnlyContain(p => p.Operator == '-' && data.Split.IsValidationPair(p.A, p.B));
        data.Target.Should().HaveCount(300).And.OnlyHaveUniqueItems().And.OnlyContain(p => p.Operator == '-' && p.A >= p.B && !data.Split.IsTestPair(p.A, p.B) && !data.Split.IsValidationPair(p.A, p.B));
        var random = new Random(3);
        for (int i = 0; i < 5000; i++)
        {
            var p = data.SampleSource(random);
            p.Operator.Should().Be('+');
            (data.Split.IsTestPair(p.A, p.B) || data.Split.IsValidationPair(p.A, p.B)).Should().BeFalse();
        }

        new TransferData(targetSize: 300, validationSize: 100, testSize: 200).Test.Should().Equal(data.Test);
        FluentActions.Invoking(() => new TransferData(targetSize: 100_000)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("targetSize");
    }

    [Fact]
    public void Exact_mcnemar_matches_hand_computed_binomial_tails()
    {
        PairedStatistics.McNemarExact(0, 5).Should().BeApproximately(2.0 / 32, 1e-12);
        PairedStatistics.McNemarExact(9, 1).Should().BeApproximately(2.0 * 11 / 1024, 1e-12);
        PairedStatistics.McNemarExact(3, 3).Should().Be(1);
        PairedStatistics.McNemarExact(0, 0).Should().Be(1);
        PairedStatistics.McNemarExact(1000, 1100).Should().BeInRange(0.02, 0.04, "z ≈ 2.18 for 1000 vs 1100");
        PairedStatistics.Discordant(new[] { true, false, true, false }, new[] { true, true, false, true }).Should().Be((2, 1));
    }

    [Fact]
    public void Default_copilot_is_a_quarter_to_a_half_of_the_pilot()
    {
        var config = ExperimentConfig.Default;
        var data = new TransferData(targetSize: 10, validationSize: 10, testSize: 10);
        using var pilot = Logits.TorchSharp.Models.DecoderTransformer.Create(config.PilotOptions(data), 1);
        using var copilot = Logits.TorchSharp.Rectification.CopilotDecoder.Create(config.CopilotOptions());
        ((double)copilot.ParameterCount / pilot.ParameterCount).Should().BeInRange(0.25, 0.5);

        // Same width: the Pilot's self-attention and feed-forward weights fit and are copied.
        copilot.CopyFromPilot(pilot).Should().Contain(line => line.StartsWith("layers.0.ffn.up.weight", StringComparison.Ordinal));
    }

    [Fact]
    public void Quick_run_keeps_the_finetuned_pilot_identical_across_arms_and_lambda_zero_equals_the_pilot()
    {
        string directory = Path.Combine(Path.GetTempPath(), "copilot-arithmetic-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var log = new StringWriter();
            var report = ArithmeticExperiment.Run(new[] { "--quick", "--seed", "4", "--no-cache", "--out", directory, "--lambdas", "0.5,1" }, log);
            string text = log.ToString();

            report.Seeds.Should().Equal(4UL);

            // The mechanics: the jointly fine-tuned Pilot is bit-identical to the Pilot fine-tuned alone, fused generation with
            // λ = 0 answers every test problem as the Pilot, and the batched evaluation matches the library's TokenGenerator path.
            report.PilotIdentical.Should().Equal(true);
            report.LambdaZeroEqualsPilot.Should().Equal(true);
            report.LibraryAgrees.Should().Equal(true);
            report.ChosenLambdas.Should().ContainSingle().Which.Should().BeOneOf(0, 0.5, 1);

            report.Rows.Select(r => r.Name).Should().Equal(
                "Pilot (fine-tuned alone)",
                "Pilot + Copilot (λ on validation)",
                report.Rows[2].Name,
                report.Rows[3].Name);
            report.Rows[2].Name.Should().StartWith("Parameter-matched Pilot (width ");
            report.Rows[3].Name.Should().Be($"Compute-matched Pilot ({report.Rows[3].FinetuneSteps} steps)");
            report.Rows[3].FinetuneSteps.Should().BeGreaterThan(ExperimentConfig.Quick.FinetuneSteps, "fixed extra steps");
            report.Rows[2].Parameters.Should().BeCloseTo(report.Rows[1].Parameters, (uint)(report.Rows[1].Parameters / 10), "the parameter-matched baseline is within 10%");
            foreach (var row in report.Rows)
            {
                row.Outcomes.Should().ContainSingle().Which.Should().HaveCount(ExperimentConfig.Quick.TestSize);
                row.Accuracies.Should().ContainSingle().Which.Should().Be(row.Outcomes[0].Count(o => o) / (double)ExperimentConfig.Quick.TestSize);
                text.Should().Contain($"| {row.Name} | ");
            }

            // The paired numbers are those of the outcomes.
            var paired = report.Paired.Should().ContainSingle().Subject;
            var (b, c) = PairedStatistics.Discordant(report.Rows[0].Outcomes[0], report.Rows[1].Outcomes[0]);
            (paired.OnlyCopilot, paired.OnlyPilot).Should().Be((b, c));
            paired.Difference.Should().BeApproximately((b - c) / (double)ExperimentConfig.Quick.TestSize, 1e-12);
            report.PooledMcNemarP.Should().Be(paired.McNemarP);

            var losses = report.CopilotLosses.Should().ContainSingle().Subject;
            losses.Should().HaveCount(ExperimentConfig.Quick.FinetuneSteps).And.OnlyContain(l => double.IsFinite(l) && l >= 0);
            report.TrainingOverhead.Should().ContainSingle().Which.Should().BeGreaterThan(0, "the joint run also trains the Copilot");
            text.Should().Contain("Mistake Log").And.Contain("McNemar p").And.Contain("Copilot skill");

            File.Exists(report.PlotPath).Should().BeTrue();
            File.ReadAllBytes(report.PlotPath).Take(4).Should().Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' });
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    // Issue 14, first contact: unknown or malformed arguments print the usage and exit with 2; --help exits with 0.
    [Theory]
    [InlineData("--bogus")]
    [InlineData("--finetune-steps", "many")]
    [InlineData("--lambdas", "1,x")]
    [InlineData("--lambdas", "-1")]
    [InlineData("--seeds", "0")]
    [InlineData("--width", "33")]
    [InlineData("--seed")]
    [InlineData("--pretrain-seed", "x")]
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
        output.ToString().Should().Contain("--compute-extra-steps");
    }
}
