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
    public void Quick_run_trains_the_pilot_below_the_uniform_loss_and_prints_the_table()
    {
        using var log = new StringWriter();
        var reports = ArithmeticExperiment.Run(new[] { "--quick", "--seed", "4" }, log);
        reports.Should().ContainSingle();
        var report = reports[0];
        report.Seed.Should().Be(4UL);
        report.Test.Total.Should().Be(PilotConfig.Quick.TestSize);
        report.FinalLoss.Should().BeLessThan(0.75 * Math.Log(CharTokenizer.VocabSize), "150 steps already learn the answer format");
        report.Test.Accuracy.Should().BeInRange(0, 1);
        log.ToString().Should().Contain("| seed | parameters |").And.Contain("| 4 | ");
    }
}
