using System;
using System.IO;
using FluentAssertions;
using Logits.Samples.ClassicLogits;
using Xunit;

namespace Logits.Tests.Samples.ClassicLogits;

/// <summary>The ClassicLogits sample: every command in quick mode meets its checks and writes its plots; usage and exit codes.</summary>
public sealed class ClassicLogitsAppTests : IDisposable
{
    private readonly string _output = Path.Combine(Path.GetTempPath(), "classic-logits-tests-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("perceptron", "| 1000 | 308 | 301 | 301 | 2 | 2 | 16 | 157 | 2 |", "perceptron-iterations.png")]
    [InlineData("auction", "W* = 2.076923", "auction-click-curves.png")]
    [InlineData("sso", "SSO with m = 1 reproduces gradient descent exactly: met", "sso-full-batch-scaled.png")]
    [InlineData("naive-bayes", "m*(NB) ≤ 32 for every n: met", "naive-bayes-vs-logistic.png")]
    public void Quick_runs_meet_their_checks(string command, string expectedLine, string plot)
    {
        var writer = new StringWriter();
        int code = ClassicLogitsApp.Run(new[] { command, "--quick", "--out", _output }, writer);
        string text = writer.ToString();
        code.Should().Be(0, text);
        text.Should().Contain(expectedLine);
        text.Should().NotContain("NOT met");
        File.Exists(Path.Combine(_output, plot)).Should().BeTrue();
    }

    [Fact]
    public void Help_and_bad_arguments()
    {
        var writer = new StringWriter();
        ClassicLogitsApp.Run(new[] { "--help" }, writer).Should().Be(0);
        writer.ToString().Should().Contain("Usage: ClassicLogits");
        foreach (var args in new[] { Array.Empty<string>(), new[] { "bogus" }, new[] { "sso", "--seed" }, new[] { "sso", "--seed", "x" }, new[] { "sso", "auction" } })
        {
            var bad = new StringWriter();
            ClassicLogitsApp.Run(args, bad).Should().Be(2, string.Join(" ", args));
            bad.ToString().Should().Contain("Usage:");
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_output))
        {
            Directory.Delete(_output, recursive: true);
        }
    }
}
