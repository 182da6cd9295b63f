// OnnxGenerate: Logits choosing the tokens of an ONNX Runtime GenAI model.
// Run it with: dotnet run --project samples/OnnxGenerate -c Release [-- --onnx-model DIR] [--quick] [--help]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Logits.Generation;
using Logits.OnnxRuntimeGenAI.Models;
using Logits.OnnxRuntimeGenAI.Onnx;
using Logits.Pipelines;
using Logits.Processing.Constraints;
using Logits.Samples.OnnxGenerate;
using Microsoft.ML.OnnxRuntimeGenAI;

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

Directory.CreateDirectory(options.OutputFolder);

// 1. The model: the user's ONNX Runtime GenAI folder, or a synthetic one written here (no download needed).
string modelFolder = options.ModelFolder ?? Path.Combine(options.OutputFolder, $"synthetic-v{options.Vocab}");
if (options.ModelFolder is null)
{
    var written = Stopwatch.StartNew();
    SyntheticOnnxModel.Create(new SyntheticOnnxModelOptions { VocabSize = options.Vocab, ContextLength = Math.Max(256, options.Tokens + 64) }).Write(modelFolder);
    Console.WriteLine($"Wrote a synthetic ONNX Runtime GenAI model (V = {options.Vocab}, d = {SyntheticOnnxModel.HiddenSize}) to {modelFolder} in {written.ElapsedMilliseconds} ms.");
}

using var runtimeModel = new Model(modelFolder);
using var model = new OnnxGenAILanguageModel(runtimeModel);
var tokenizer = model.Tokenizer;
int[] prompt = model.Tokenize(options.Prompt);
int[] eos = tokenizer.GetEosTokenIds().ToArray();
Console.WriteLine($"Model: {Path.GetFileName(Path.GetFullPath(modelFolder))} ({runtimeModel.GetModelType()}), vocabulary {model.VocabSize}.");
Console.WriteLine($"Prompt: \"{options.Prompt}\" ({prompt.Length} tokens); {options.Tokens} new tokens per run; seed {options.Seed}.");
Console.WriteLine();

var results = new List<(string Run, double LogitsUs, double? RuntimeUs, double SamplingUs, string Text, string Note)>();

// 2. Each run: Logits' TokenGenerator over the runtime (read logits, pipeline, AppendTokens), then the runtime's own
//    search with the same settings where it has them.
var runs = new (string Name, Func<LogitPipeline> Logits, Action<GeneratorParams>? Runtime)[]
{
    ("greedy", () => LogitPipeline.CreateBuilder().Greedy(), p => p.SetSearchOption("do_sample", false)),
    ("sampled", () => SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions
        {
            Seed = options.Seed, Temperature = options.Temperature, TopK = options.TopK, TopP = options.TopP,
        }),
        p =>
        {
            p.SetSearchOption("do_sample", true);
            p.SetSearchOption("temperature", options.Temperature);
            p.SetSearchOption("top_k", options.TopK);
            p.SetSearchOption("top_p", options.TopP);
            p.SetSearchOption("random_seed", options.Seed);
        }),
    ("constrained", () => LogitPipeline.CreateBuilder().Add(new AllowedTokensProcessor(LettersAndSpaces(model))).Multinomial(options.Seed), null),
};

foreach (var run in runs)
{
    if (options.Run is not null && options.Run != run.Name)
    {
        continue;
    }

    Console.WriteLine($"== {run.Name}");
    var timed = new TimedModel(model);
    var generator = new TokenGenerator(timed, run.Logits(), new GenerationOptions { MaxNewTokens = options.Tokens, EosTokenIds = eos });
    var steps = new List<double>();
    var sampling = new List<double>();
    var tokens = new List<int>();
    using (var stream = tokenizer.CreateStream())
    {
        Console.Write("   Logits:  ");
        long stepStart = Stopwatch.GetTimestamp();
        foreach (int token in generator.Generate(prompt).Tokens)
        {
            tokens.Add(token);
        }

        // Per-token times after the prompt step: the whole step, and the step less the forward pass (sampling).
        double total = Stopwatch.GetElapsedTime(stepStart).TotalMicroseconds;
        for (int i = 1; i < timed.Steps.Count; i++)
        {
            steps.Add(timed.Steps[i].Total);
            sampling.Add(timed.Steps[i].Total - timed.Steps[i].Forward);
        }

        foreach (int token in tokens)
        {
            Console.Write(stream.Decode(token));
        }

        Console.WriteLine();
        Console.WriteLine($"   ({tokens.Count} tokens in {total / 1000:0.0} ms, stop: {generator.LastStopReason})");
    }

    double? runtimeUs = null;
    string note = "no runtime equivalent in C# (allowed-token constraint)";
    if (run.Runtime is { } configure)
    {
        var (runtimeTokens, perToken) = RuntimeSearch(runtimeModel, prompt, options.Tokens, configure);
        runtimeUs = perToken;
        using var stream = tokenizer.CreateStream();
        Console.WriteLine($"   runtime: {string.Concat(runtimeTokens.Where(t => !eos.Contains(t)).Select(stream.Decode))}");
        note = run.Name == "greedy"
            ? (runtimeTokens.Where(t => !eos.Contains(t)).SequenceEqual(tokens) ? "identical tokens" : "TOKENS DIFFER")
            : "different random streams";
    }

    double stepUs = Median(steps);
    double samplingUs = Median(sampling);
    Console.WriteLine($"   per token (median): Logits step {stepUs:0.0} µs (of which sampling {samplingUs:0.0} µs), runtime GenerateNextToken {(runtimeUs is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) + " µs" : "—")}; {note}");
    Console.WriteLine();
    results.Add((run.Name, stepUs, runtimeUs, samplingUs, Decode(tokenizer, tokens), note));
}

// 3. The summary, on screen and in results.md.
var table = new StringBuilder();
table.AppendLine("| run | Logits µs/token (median step) | of which Logits sampling | runtime µs/token (GenerateNextToken) | note |");
table.AppendLine("| --- | ---: | ---: | ---: | --- |");
foreach (var r in results)
{
    string peer = r.RuntimeUs is { } us ? us.ToString("0.0", CultureInfo.InvariantCulture) : "—";
    table.AppendLine($"| {r.Run} | {r.LogitsUs:0.0} | {r.SamplingUs:0.0} | {peer} | {r.Note} |");
}

Console.WriteLine(table);
string report = Path.Combine(options.OutputFolder, "results.md");
File.WriteAllText(report, $"# OnnxGenerate\n\nModel {Path.GetFileName(Path.GetFullPath(modelFolder))}, prompt \"{options.Prompt}\", {options.Tokens} tokens per run, {Environment.ProcessorCount} processors, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.\n\n{table}\n"
    + string.Concat(results.ConvertAll(r => $"## {r.Run}\n\n{r.Text}\n\n")));
Console.WriteLine($"Wrote {report}.");
return 0;

// The runtime's own search: AppendTokens(prompt), then GenerateNextToken until done; the median time of the calls
// after the first (each runs the forward pass of the previous token and samples the next).
static (List<int> Tokens, double MedianMicroseconds) RuntimeSearch(Model model, int[] prompt, int newTokens, Action<GeneratorParams> configure)
{
    using var parameters = new GeneratorParams(model);
    parameters.SetSearchOption("max_length", prompt.Length + newTokens);
    configure(parameters);
    using var generator = new Generator(model, parameters);
    generator.AppendTokens(prompt);
    var tokens = new List<int>();
    var times = new List<double>();
    while (!generator.IsDone())
    {
        long start = Stopwatch.GetTimestamp();
        generator.GenerateNextToken();
        times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        tokens.Add(generator.GetNextTokens()[0]);
    }

    return (tokens, Median(times.Skip(1).ToList()));
}

static double Median(List<double> values)
{
    if (values.Count == 0)
    {
        return 0;
    }

    var sorted = new List<double>(values);
    sorted.Sort();
    return sorted[sorted.Count / 2];
}

static string Decode(Tokenizer tokenizer, List<int> tokens) => tokenizer.Decode(tokens.ToArray());

// The ids whose text is only lower-case letters or spaces (a small, readable constraint).
static int[] LettersAndSpaces(OnnxGenAILanguageModel model)
{
    var ids = new List<int>();
    for (int id = 0; id < model.VocabSize; id++)
    {
        string text = model.Tokenizer.Decode(new[] { id });
        if (text.Length > 0 && text.All(c => c is (>= 'a' and <= 'z') or ' '))
        {
            ids.Add(id);
        }
    }

    return ids.ToArray();
}
