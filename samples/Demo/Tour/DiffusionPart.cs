using System;
using System.Diagnostics;
using System.Linq;
using Logits.Diffusion;
using Logits.TorchSharp.Diffusion;
using Spectre.Console;

namespace Logits.Samples.Demo.Tour;

/// <summary>
/// Part 4: RADD sampling (Ou et al., arXiv 2406.03736) with and without output caching. A time-independent denoiser's
/// output changes only when a token is revealed, so a step that reveals nothing reuses the last output: the number of
/// function evaluations (NFE) stays below the sequence length however many steps the sampler takes.
/// </summary>
internal static class DiffusionPart
{
    private const int Length = 32;
    private const int Vocabulary = 30;
    private const int Sequences = 16;
    private static readonly int[] StepCounts = { 8, 32, 128, 512 };

    public static void Run(TourOptions options, Checks checks)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule("[bold]4. Discrete diffusion: RADD with output caching (quick form)[/]").LeftJustified());

        // The NFE does not depend on what the denoiser predicts (caching hinges on whether a step reveals a token), so
        // the quick form samples an untrained denoiser; samples/RaddText trains one and measures the words it writes.
        using var model = MaskedTokenTransformer.Create(Vocabulary, Length, width: 32, heads: 4, layers: 1);
        var denoiser = new TorchDenoiser(model);
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("steps n").RightAligned())
            .AddColumn(new TableColumn("expected NFE").RightAligned())
            .AddColumn(new TableColumn("NFE cached").RightAligned())
            .AddColumn(new TableColumn("NFE uncached").RightAligned())
            .AddColumn(new TableColumn("time cached").RightAligned())
            .AddColumn(new TableColumn("time uncached").RightAligned());
        bool identical = true;
        new RaddSampler(8).Sample(denoiser, Sequences, Length, seed: 1); // warm-up, so the first row's times are not libtorch's start
        AnsiConsole.Status().Start("sampling", status =>
        {
            foreach (int steps in StepCounts)
            {
                status.Status($"sampling: {steps} steps");
                var timer = Stopwatch.StartNew();
                var cached = new RaddSampler(steps).Sample(denoiser, Sequences, Length, seed: 11);
                double cachedSeconds = timer.Elapsed.TotalSeconds;
                timer.Restart();
                var uncached = new RaddSampler(steps, caching: false).Sample(denoiser, Sequences, Length, seed: 11);
                double uncachedSeconds = timer.Elapsed.TotalSeconds;
                identical &= cached.Tokens.SequenceEqual(uncached.Tokens);
                table.AddRow(
                    $"{steps}",
                    $"{RaddNfe.Expected(steps, Length):F2}",
                    $"{cached.FunctionEvaluations.Average():F2}",
                    $"{uncached.FunctionEvaluations.Average():F0}",
                    $"{cachedSeconds * 1000:0} ms",
                    $"{uncachedSeconds * 1000:0} ms");
            }
        });

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{Sequences} sequences of {Length} tokens; NFE per sequence; expected NFE = n(1 − (1 − 1/n)^{Length}): with the log-linear schedule each token is revealed at a uniformly random step, and only steps that reveal a token call the network. "
            + "Trained model and word validity: dotnet run -c Release --project samples/RaddText; the rules: docs/diffusion.md.[/]");
        checks.Expect(identical, "RADD's output cache leaves every sample unchanged (same tokens with and without caching)");
    }
}
