using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading.Tasks;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Logits.Generation;
using Logits.LLamaSharp.Models;
using Logits.LLamaSharp.Sampling;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Guidance;
using Logits.Tensors;
using Spectre.Console;

namespace Logits.Samples.Demo.Tour;

/// <summary>Part 2: one prompt, six ways of choosing tokens, through llama.cpp; Logits' sampling time next to llama.cpp's.</summary>
internal static class SamplingPart
{
    private const string Prompt = "the cat";
    private const string NegativePrompt = "the dog";
    private const int NewTokens = 64;
    private const ulong Seed = 42;

    // llama.cpp's default chain settings (common/common.h), shared by both samplers.
    private const int TopK = 40;
    private const float TopP = 0.95f;
    private const float MinP = 0.05f;
    private const float Temperature = 0.8f;

    // DRY (p-e-w's "Don't Repeat Yourself"): a repeat longer than 2 tokens within the last 64 is penalised; "." breaks sequences.
    private const float DryMultiplier = 0.8f;
    private const float DryBase = 1.75f;
    private const int DryAllowedLength = 2;
    private const int DryLastN = 64;

    public static async Task RunAsync(TourOptions options, TinyModel model, Checks checks)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule("[bold]2. Sampling through llama.cpp: Logits and llama.cpp's own sampler[/]").LeftJustified());
        var parameters = new ModelParams(model.GgufPath)
        {
            ContextSize = 1024,
            SeqMax = 2, // guidance decodes the negative prompt as a second sequence of the same context
            Threads = options.Threads,
            BatchThreads = options.Threads,
            GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        var promptTokens = weights.Tokenize(Prompt, true, true, Encoding.UTF8);
        int dot = (int)weights.Tokenize(".", false, true, Encoding.UTF8)[^1];
        var executor = new StatelessExecutor(weights, parameters);
        AnsiConsole.MarkupLine($"Prompt [bold]\"{Prompt}\"[/], {NewTokens} new tokens per run, seed {Seed}; guidance runs use the negative prompt [bold]\"{NegativePrompt}\"[/].");

        var runs = new (string Name, string Settings, Func<LogitPipeline> Logits, Func<ISamplingPipeline> Llama)[]
        {
            ("greedy", "argmax", () => LogitPipeline.CreateBuilder().Greedy(), () => new GreedySamplingPipeline()),
            ("llama.cpp default", $"top-k {TopK}, top-p {TopP}, min-p {MinP}, temperature {Temperature}",
                () => SamplingPresets.LlamaCpp(Default()),
                () => new DefaultSamplingPipeline { Seed = (uint)Seed, TopK = TopK, TopP = TopP, MinP = MinP, TypicalP = 1, Temperature = Temperature, RepeatPenalty = 1 }),
            ("min-p", "min-p 0.1, temperature 1",
                () => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = Seed, TopK = 0, TopP = 1, MinP = 0.1, Temperature = 1 }),
                () => new DefaultSamplingPipeline { Seed = (uint)Seed, TopK = 0, TopP = 1, MinP = 0.1f, TypicalP = 1, Temperature = 1, RepeatPenalty = 1 }),
            ("DRY", $"DRY ×{DryMultiplier} base {DryBase} after {DryAllowedLength}, then the default chain",
                () => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions
                {
                    Seed = Seed, TopK = TopK, TopP = TopP, MinP = MinP, Temperature = Temperature,
                    DryMultiplier = DryMultiplier, DryBase = DryBase, DryAllowedLength = DryAllowedLength, DryPenaltyLastN = DryLastN, DrySequenceBreakers = new[] { dot },
                }),
                () => new DryChain()),
        };

        var rows = new List<(string Name, string Settings, string LogitsText, string LlamaText, double LogitsUs, double? LlamaUs)>();
        await AnsiConsole.Status().StartAsync("sampling", async status =>
        {
            foreach (var run in runs)
            {
                status.Status($"sampling: {run.Name}");
                using var logitsPipeline = new LogitsSamplingPipeline(run.Logits());
                logitsPipeline.SetPrompt(promptTokens);
                using var timedLogits = new TimedPipeline(logitsPipeline);
                string logitsText = await InferAsync(executor, timedLogits);
                using var timedLlama = new TimedPipeline(run.Llama());
                string llamaText = await InferAsync(executor, timedLlama);
                rows.Add((run.Name, run.Settings, logitsText, llamaText, timedLogits.MedianMicroseconds, timedLlama.MedianMicroseconds));
            }

            status.Status("sampling: classifier-free guidance");
            rows.Add(await GuidedAsync(weights, parameters, "CFG", "scale 1.5 against the negative prompt, then the default chain",
                guidance => SamplingPresets.LlamaCpp(Default(new[] { new ClassifierFreeGuidanceProcessor(1.5f, guidance) }))));
            status.Status("sampling: STEER");

            // The STEER paper's decoding: STEER on the raw logits, top-k 10, temperature 1. γ = 0: one model, so no base
            // model to contrast with; η pushes away from what the negative prompt's branch predicts.
            rows.Add(await GuidedAsync(weights, parameters, "STEER", "η 0.3 against the negative prompt (γ 0), top-k 10, temperature 1",
                guidance => LogitPipeline.CreateBuilder().SteerPaperSetup(null, guidance, gamma: 0f, eta: 0.3f).Multinomial(Seed)));
        });

        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("run").AddColumn("sampler").AddColumn("text").AddColumn(new TableColumn("µs/token").RightAligned());
        foreach (var row in rows)
        {
            table.AddRow(
                new Markup($"[bold]{Markup.Escape(row.Name)}[/]\n[grey]{Markup.Escape(row.Settings)}[/]"),
                new Markup("[green]Logits[/]"),
                new Text(Prompt + row.LogitsText),
                new Text($"{row.LogitsUs:0.0}"));
            table.AddRow(
                new Text(string.Empty),
                new Markup("[blue]llama.cpp[/]"),
                new Text(row.LlamaUs is null ? "(llama.cpp's sampler has no such stage)" : Prompt + row.LlamaText),
                new Text(row.LlamaUs is { } us ? $"{us:0.0}" : "—"));
            table.AddEmptyRow();
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]µs/token: the median time of one sampling call (reading the logits, the chain, the choice), not the model's forward pass. "
            + "The two samplers draw different random numbers, so only greedy texts are expected to be equal. "
            + "Careful comparisons: samples/LlamaGenerate and the benchmarks (docs/benchmarks.md).[/]");
        checks.Expect(rows[0].LogitsText == rows[0].LlamaText, "greedy decoding gives the same text with Logits' pipeline and llama.cpp's sampler");
    }

    private static LlamaCppSamplingOptions Default(IReadOnlyList<ILogitProcessor>? constraints = null) =>
        new() { Seed = Seed, TopK = TopK, TopP = TopP, MinP = MinP, Temperature = Temperature, Constraints = constraints };

    private static async Task<string> InferAsync(StatelessExecutor executor, ISamplingPipeline pipeline)
    {
        var text = new StringBuilder();
        await foreach (string piece in executor.InferAsync(Prompt, new InferenceParams { SamplingPipeline = pipeline, MaxTokens = NewTokens }))
        {
            text.Append(piece);
        }

        return text.ToString();
    }

    /// <summary>A Logits-only run: the guidance branch is a second llama.cpp sequence, decoded in the same batch as the prompt's.</summary>
    private static async Task<(string, string, string, string, double, double?)> GuidedAsync(
        LLamaWeights weights, ModelParams parameters, string name, string settings, Func<LlamaGuidance, LogitPipeline> createPipeline)
    {
        using var model = new LlamaLanguageModel(weights, parameters);
        var guidance = model.CreateGuidance(NegativePrompt);
        var pipeline = createPipeline(guidance);
        var timed = new TimedModel(model);
        var eos = weights.Vocab.EOS is { } end ? new[] { (int)end } : Array.Empty<int>();
        var generator = new TokenGenerator(timed, pipeline, new GenerationOptions { MaxNewTokens = NewTokens, EosTokenIds = eos });
        var decoder = new StreamingTokenDecoder(model.Context);
        var sampling = new List<double>();
        long stepStart = Stopwatch.GetTimestamp();
        await foreach (int token in generator.GenerateAsync(model.Tokenize(Prompt)))
        {
            // A step is the forward passes (timed by TimedModel) plus the pipeline: the rest is sampling.
            sampling.Add(Stopwatch.GetElapsedTime(stepStart).TotalMicroseconds - timed.LastMicroseconds);
            decoder.Add(token);
            stepStart = Stopwatch.GetTimestamp();
        }

        return (name, settings, decoder.Read(), string.Empty, TimedPipeline.Median(sampling), null);
    }

    /// <summary>llama.cpp's own chain with DRY: dry → top-k → top-p → min-p → temperature → dist, as llama.cpp orders them.</summary>
    private sealed class DryChain : BaseSamplingPipeline
    {
        protected override SafeLLamaSamplerChainHandle CreateChain(SafeLLamaContextHandle context)
        {
            var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
            chain.AddDry(context.ModelHandle, new[] { "." }, DryMultiplier, DryBase, DryAllowedLength, DryLastN);
            chain.AddTopK(TopK);
            chain.AddTopP(TopP, 1);
            chain.AddMinP(MinP, 1);
            chain.AddTemperature(Temperature);
            chain.AddDistributionSampler((uint)Seed);
            return chain;
        }
    }
}

/// <summary>Wraps a sampling pipeline and records how long each <c>Sample</c> call takes.</summary>
internal sealed class TimedPipeline(ISamplingPipeline inner) : ISamplingPipeline
{
    private readonly List<double> _microseconds = new();

    /// <summary>The median time of a <c>Sample</c> call in microseconds.</summary>
    public double MedianMicroseconds => Median(_microseconds);

    public static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = new List<double>(values);
        sorted.Sort();
        return sorted[sorted.Count / 2];
    }

    public LLamaToken Sample(SafeLLamaContextHandle ctx, int index)
    {
        long start = Stopwatch.GetTimestamp();
        var token = inner.Sample(ctx, index);
        _microseconds.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        return token;
    }

    public void Apply(SafeLLamaContextHandle ctx, LLamaTokenDataArray data) => inner.Apply(ctx, data);

    public void Reset() => inner.Reset();

    public void Accept(LLamaToken token) => inner.Accept(token);

    public void Dispose() => inner.Dispose();
}

/// <summary>Wraps a language model and records how long the last forward pass took.</summary>
internal sealed class TimedModel(ILanguageModel inner) : ILanguageModel
{
    public double LastMicroseconds { get; private set; }

    public int VocabSize => inner.VocabSize;

    public LogitBatch CreateLogitBatch(int rows) => inner.CreateLogitBatch(rows);

    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        long start = Stopwatch.GetTimestamp();
        inner.NextTokenLogits(contexts, destination);
        LastMicroseconds = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }
}
