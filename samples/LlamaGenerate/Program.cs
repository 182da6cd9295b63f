// LlamaGenerate: Logits as the sampling layer of llama.cpp, through LLamaSharp.
// Run it with: dotnet run --project samples/LlamaGenerate -c Release [-- --model PATH.gguf] [--quick] [--help]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Logits.Generation;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Models;
using Logits.LLamaSharp.Sampling;
using Logits.Pipelines;
using Logits.Processing.Guidance;
using Logits.Samples.LlamaGenerate;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Options options;
try
{
    options = Options.Parse(args);
}
catch (FormatException error)
{
    Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine();
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(Options.Usage);
    return 0;
}

// llama.cpp logs every load to stderr; keep the output to what the sample prints.
NativeLibraryConfig.All.WithLogCallback((level, message) => { });
Directory.CreateDirectory(options.OutputFolder);

// 1. The model: the user's GGUF, or a synthetic llama model written here (no download needed).
string modelPath = options.ModelPath ?? Path.Combine(options.OutputFolder, $"synthetic-v{options.Vocab}.gguf");
if (options.ModelPath is null)
{
    var written = Stopwatch.StartNew();
    SyntheticLlamaModel.Write(modelPath, new SyntheticLlamaModelOptions { VocabSize = options.Vocab, ContextStrength = 1.5f, SuccessorStrength = 0.5f });
    Console.WriteLine($"Wrote a synthetic llama model (V = {options.Vocab}, d = 64, one block) to {modelPath} in {written.ElapsedMilliseconds} ms.");
}

var parameters = new ModelParams(modelPath)
{
    ContextSize = 2048,
    SeqMax = 2, // the CFG run decodes its negative prompt as a second sequence of the same context
    Threads = options.Threads,
    BatchThreads = options.Threads,
    GpuLayerCount = 0,
};
using var weights = LLamaWeights.LoadFromFile(parameters);
Console.WriteLine($"Model: {Path.GetFileName(modelPath)}, vocabulary {weights.Vocab.Count}, {weights.NativeHandle.LayerCount} layer(s), {weights.SizeInBytes / (1024.0 * 1024.0):0.0} MiB.");
Console.WriteLine($"Prompt: \"{options.Prompt}\"; {options.Tokens} new tokens per run; seed {options.Seed}.");
Console.WriteLine();

var promptTokens = weights.Tokenize(options.Prompt, true, true, Encoding.UTF8);
var results = new List<(string Run, double LogitsUs, double? LlamaSharpUs, double TokensPerSecond, string Text, string? Note)>();
var executor = new StatelessExecutor(weights, parameters);

// 2. Greedy, llama.cpp's default chain and min-p: each through LLamaSharp's StatelessExecutor, once with a Logits
//    pipeline and once with LLamaSharp's own pipeline with the same settings.
var runs = new (string Name, Func<LogitPipeline> Logits, Func<ISamplingPipeline> LlamaSharp)[]
{
    ("greedy", () => LogitPipeline.CreateBuilder().Greedy(), () => new GreedySamplingPipeline()),
    ("default", () => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions
        {
            Seed = options.Seed, TopK = options.TopK, TopP = options.TopP, MinP = 0.1, TypicalP = 1, Temperature = options.Temperature, RepetitionPenalty = 1,
        }),
        () => new DefaultSamplingPipeline { Seed = options.Seed, TopK = options.TopK, TopP = options.TopP, MinP = 0.1f, TypicalP = 1, Temperature = options.Temperature, RepeatPenalty = 1 }),
    ("min-p", () => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions
        {
            Seed = options.Seed, TopK = 0, TopP = 1, MinP = options.MinP, TypicalP = 1, Temperature = options.Temperature, RepetitionPenalty = 1,
        }),
        () => new DefaultSamplingPipeline { Seed = options.Seed, TopK = 0, TopP = 1, MinP = options.MinP, TypicalP = 1, Temperature = options.Temperature, RepeatPenalty = 1 }),
};

foreach (var run in runs)
{
    if (options.Run is not null && options.Run != run.Name)
    {
        continue;
    }

    Console.WriteLine($"== {run.Name}");
    using var logitsPipeline = new LogitsSamplingPipeline(run.Logits());
    logitsPipeline.SetPrompt(promptTokens); // prompt-scope penalties see the prompt
    var logits = new TimedPipeline(logitsPipeline);
    var inference = new InferenceParams { SamplingPipeline = logits, MaxTokens = options.Tokens };
    var clock = Stopwatch.StartNew();
    var text = new StringBuilder();
    Console.Write("   Logits:     ");
    await foreach (string piece in executor.InferAsync(options.Prompt, inference))
    {
        Console.Write(piece);
        text.Append(piece);
    }

    double tokensPerSecond = logits.Calls / clock.Elapsed.TotalSeconds;
    Console.WriteLine();

    var llamaSharp = new TimedPipeline(run.LlamaSharp());
    var reference = new StringBuilder();
    await foreach (string piece in executor.InferAsync(options.Prompt, new InferenceParams { SamplingPipeline = llamaSharp, MaxTokens = options.Tokens }))
    {
        reference.Append(piece);
    }

    llamaSharp.Dispose();
    Console.WriteLine($"   LLamaSharp: {reference}");
    string note = run.Name == "greedy"
        ? (text.ToString() == reference.ToString() ? "identical text" : "TEXTS DIFFER")
        : "different random streams";
    Console.WriteLine($"   sampling per token (median): Logits {logits.MedianMicroseconds:0.0} µs, LLamaSharp {llamaSharp.MedianMicroseconds:0.0} µs; {tokensPerSecond:0} tokens/s with Logits ({note})");
    Console.WriteLine();
    results.Add((run.Name, logits.MedianMicroseconds, llamaSharp.MedianMicroseconds, tokensPerSecond, text.ToString(), note));
}

// 3. Classifier-free guidance with a negative prompt: the unconditional branch is a second llama.cpp sequence of the
//    same context, decoded in the same batch as the prompt's sequence. LLamaSharp's samplers have no CFG stage.
if (options.Run is null or "cfg")
{
    Console.WriteLine($"== cfg (scale {options.CfgScale}, negative prompt \"{options.NegativePrompt}\")");
    using var model = new LlamaLanguageModel(weights, parameters);
    var guidance = model.CreateGuidance(options.NegativePrompt);
    var pipeline = LogitPipeline.CreateBuilder()
        .Add(new ClassifierFreeGuidanceProcessor(options.CfgScale, guidance))
        .TopK(options.TopK > 0 ? options.TopK : int.MaxValue)
        .TopP(options.TopP)
        .MinP(0.1)
        .Temperature(options.Temperature)
        .Multinomial(options.Seed);
    var timed = new TimedModel(model);
    var eos = weights.Vocab.EOS is { } end ? new[] { (int)end } : Array.Empty<int>();
    var generator = new TokenGenerator(timed, pipeline, new GenerationOptions { MaxNewTokens = options.Tokens, EosTokenIds = eos });
    var decoder = new StreamingTokenDecoder(model.Context);
    var text = new StringBuilder();
    var stepMicroseconds = new List<double>();
    var clock = Stopwatch.StartNew();
    long stepStart = Stopwatch.GetTimestamp();
    Console.Write("   Logits:     ");
    await foreach (int token in generator.GenerateAsync(model.Tokenize(options.Prompt)))
    {
        // A step is the model's forward pass (timed by TimedModel) plus the pipeline; the difference is sampling.
        stepMicroseconds.Add(Stopwatch.GetElapsedTime(stepStart).TotalMicroseconds - timed.Microseconds[^1]);
        decoder.Add(token);
        string piece = decoder.Read();
        Console.Write(piece);
        text.Append(piece);
        stepStart = Stopwatch.GetTimestamp();
    }

    clock.Stop();
    Console.WriteLine();
    int count = stepMicroseconds.Count;
    double samplingUs = Timing.Median(stepMicroseconds);
    Console.WriteLine($"   sampling per token (median; CFG combination + chain, the branch decoded with the prompt's sequence): {samplingUs:0.0} µs; {count / clock.Elapsed.TotalSeconds:0} tokens/s; branch decodes shared with the main sequence: {guidance.PrefetchHits} of {guidance.PrefetchHits + guidance.PrefetchMisses}");
    Console.WriteLine();
    results.Add(("cfg", samplingUs, null, count / clock.Elapsed.TotalSeconds, text.ToString(), "no LLamaSharp equivalent"));
}

// 4. The summary, on screen and in results.md.
var table = new StringBuilder();
table.AppendLine("| run | Logits µs/token (median) | LLamaSharp µs/token (median) | Logits / LLamaSharp | tokens/s (Logits) | note |");
table.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
foreach (var r in results)
{
    string ratio = r.LlamaSharpUs is > 0 ? (r.LogitsUs / r.LlamaSharpUs.Value).ToString("0.00", CultureInfo.InvariantCulture) : "—";
    string peer = r.LlamaSharpUs is { } us ? us.ToString("0.0", CultureInfo.InvariantCulture) : "—";
    table.AppendLine($"| {r.Run} | {r.LogitsUs:0.0} | {peer} | {ratio} | {r.TokensPerSecond:0} | {r.Note} |");
}

Console.WriteLine(table);
string report = Path.Combine(options.OutputFolder, "results.md");
File.WriteAllText(report, $"# LlamaGenerate\n\nModel {Path.GetFileName(modelPath)}, prompt \"{options.Prompt}\", {options.Tokens} tokens per run, {Environment.ProcessorCount} processors, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.\n\n{table}\n"
    + string.Concat(results.ConvertAll(r => $"## {r.Run}\n\n{r.Text}\n\n")));
Console.WriteLine($"Wrote {report}.");
return 0;
