using System;
using System.Globalization;
using System.IO;

namespace Logits.Samples.ClassicLogits;

/// <summary>Argument parsing and dispatch; callable in-process (the tests run every command with <c>--quick</c>).</summary>
public static class ClassicLogitsApp
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        Usage: ClassicLogits <command> [--quick] [--seed N] [--out DIR]

        Commands:
          naive-bayes   Naive Bayes vs logistic regression: samples needed to come within 0.01 of the Bayes error,
                        by dimension, on the paper's synthetic generator (Zheng et al., ICML 2023).
          perceptron    Large-step logistic regression, its normalised variant and the batch perceptrons:
                        iterations to separate the worst-case dataset, the paper's Table 1 (Tyurin, 2024).
          sso           Target-based surrogates (SSO) with m inner steps against gradient descent / SGD with the
                        same number of expensive gradients (Lavington et al., ICML 2023).
          auction       A position auction under MNL clicks: allocation, welfare, VCG payments (Balseiro et al., 2025).
          all           Every command in turn.

        Options:
          --quick       A reduced run with the same code paths (seconds instead of minutes).
          --seed N      The random seed (default 1).
          --out DIR     Output folder for plots and CSV files (default classic-logits-output).
          --help        This text.

        Exit codes: 0 = success and every check met; 1 = a check failed; 2 = bad arguments.
        """;

    /// <summary>Runs the command in <paramref name="args"/>; returns the process exit code.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Where tables and progress go.</param>
    /// <returns>0, 1 or 2 (see <see cref="Usage"/>).</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        string? command = null;
        bool quick = false;
        int seed = 1;
        string outDir = "classic-logits-output";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    output.WriteLine(Usage);
                    return 0;
                case "--quick":
                    quick = true;
                    break;
                case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed):
                    seed = parsed;
                    i++;
                    break;
                case "--out" when i + 1 < args.Length:
                    outDir = args[++i];
                    break;
                case "naive-bayes" or "perceptron" or "sso" or "auction" or "all" when command is null:
                    command = args[i];
                    break;
                default:
                    return BadArguments(output, $"unexpected argument '{args[i]}'");
            }
        }

        if (command is null)
        {
            return BadArguments(output, "no command given");
        }

        Directory.CreateDirectory(outDir);
        var options = new SampleOptions(quick, seed, outDir);
        output.WriteLine($"ClassicLogits {command}{(quick ? " (quick)" : string.Empty)}, seed {seed}, outputs in {Path.GetFullPath(outDir)}");
        bool ok = true;
        if (command is "naive-bayes" or "all")
        {
            ok &= NaiveBayesVsLogistic.Run(options, output);
        }

        if (command is "perceptron" or "all")
        {
            ok &= LargeStepTable.Run(options, output);
        }

        if (command is "sso" or "all")
        {
            ok &= SurrogateComparison.Run(options, output);
        }

        if (command is "auction" or "all")
        {
            ok &= AuctionExample.Run(options, output);
        }

        output.WriteLine(ok ? "All checks met." : "Some checks were NOT met.");
        return ok ? 0 : 1;
    }

    private static int BadArguments(TextWriter output, string problem)
    {
        output.WriteLine($"error: {problem}");
        output.WriteLine(Usage);
        return 2;
    }
}
