// Package-consumer smoke test: a console app restored from the packed Logits packages only.
// Every check runs even when an earlier one fails; the exit code is 0 only if all pass.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Sampling;
using Logits.OnnxRuntimeGenAI.Models;
using Logits.OnnxRuntimeGenAI.Onnx;
using Logits.Pipelines;
using Logits.Tensors;
using static TorchSharp.torch;

var failures = new List<string>();

void Check(string name, Action check)
{
    try
    {
        check();
        Console.WriteLine($"ok    {name}");
    }
    catch (Exception e)
    {
        failures.Add(name);
        Console.WriteLine($"FAIL  {name}: {e.GetType().FullName}: {e.Message}");
    }
}

static void Expect(bool condition, string message)
{
    if (!condition)
    {
        throw new InvalidOperationException(message);
    }
}

static string Format(IEnumerable<float> values) =>
    "[" + string.Join(", ", values.Select(v => v.ToString("G7", CultureInfo.InvariantCulture))) + "]";

// Logits near 88.7 and above: a softmax that does not subtract the row max overflows here.
float[] logits = { 88.8f, 87.8f, 1.0f, float.NegativeInfinity };

// The stable-softmax reference in double precision: p_i = exp(z_i - m) / sum_j exp(z_j - m).
double max = logits.Max();
double[] weights = logits.Select(z => Math.Exp(z - max)).ToArray();
double[] expected = weights.Select(w => w / weights.Sum()).ToArray();

Check("Logits.TorchSharp assembly is deployed", () =>
{
    var assembly = Assembly.Load("Logits.TorchSharp");
    Console.WriteLine($"      {assembly.GetName().Name} {assembly.GetName().Version}");
});

Check("CpuLogitBatch.FromRow / ToArray / Kernels.Name", () =>
{
    using var batch = CpuLogitBatch.FromRow(logits);
    Expect(batch.Rows == 1 && batch.Vocab == logits.Length, $"shape [{batch.Rows}, {batch.Vocab}]");
    Expect(batch.ToArray().SequenceEqual(logits), "ToArray differs from the input row");
    Expect(batch.Kernels.Name == "cpu", $"Kernels.Name is '{batch.Kernels.Name}'");
    Console.WriteLine($"      kernels: {batch.Kernels.Name}, row: {Format(batch.ToArray())}");
});

Check("torch softmax (libtorch loads in process)", () =>
{
    using var scope = NewDisposeScope();
    var p = softmax(tensor(logits), 0).data<float>().ToArray();
    Console.WriteLine($"      torch.softmax: {Format(p)}");
    for (int i = 0; i < p.Length; i++)
    {
        Expect(Math.Abs(p[i] - expected[i]) <= 1e-6, $"p[{i}] = {p[i]}, expected {expected[i]}");
    }
});

Check("Logits CPU Kernels.Softmax in place", () =>
{
    using var batch = CpuLogitBatch.FromRow(logits);
    batch.Kernels.Softmax(batch, batch);
    var p = batch.ToArray();
    Console.WriteLine($"      Kernels.Softmax: {Format(p)}");
    for (int i = 0; i < p.Length; i++)
    {
        Expect(Math.Abs(p[i] - expected[i]) <= 1e-6, $"p[{i}] = {p[i]}, expected {expected[i]}");
    }
});

Check("Logits.LLamaSharp: greedy through llama.cpp equals LLamaSharp's greedy", () =>
{
    NativeLibraryConfig.All.WithLogCallback((level, message) => { });
    string path = SyntheticLlamaModel.WriteTemporary();
    try
    {
        var parameters = new ModelParams(path) { ContextSize = 256, GpuLayerCount = 0, Threads = 1 };
        using var model = LLamaWeights.LoadFromFile(parameters);
        var executor = new StatelessExecutor(model, parameters);
        string Run(ISamplingPipeline sampler)
        {
            var text = new System.Text.StringBuilder();
            var stream = executor.InferAsync("hello world", new InferenceParams { SamplingPipeline = sampler, MaxTokens = 12 }).GetAsyncEnumerator();
            while (stream.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                text.Append(stream.Current);
            }

            return text.ToString();
        }

        using var logitsSampler = new LogitsSamplingPipeline(LogitPipeline.CreateBuilder().Greedy());
        string withLogits = Run(logitsSampler);
        string withLlamaSharp = Run(new GreedySamplingPipeline());
        Console.WriteLine($"      Logits: '{withLogits}', LLamaSharp: '{withLlamaSharp}'");
        Expect(withLogits.Length > 0 && withLogits == withLlamaSharp, "the two greedy runs differ");
    }
    finally
    {
        System.IO.File.Delete(path);
    }
});

Check("Logits.OnnxRuntimeGenAI: greedy through ONNX Runtime GenAI equals the runtime's greedy search", () =>
{
    string folder = SyntheticOnnxModel.WriteTemporary(new SyntheticOnnxModelOptions { VocabSize = 300, ContextLength = 32 });
    try
    {
        using var runtimeModel = new Microsoft.ML.OnnxRuntimeGenAI.Model(folder);
        int[] prompt = [SyntheticOnnxModel.EndOfTextId, 'h', 'i'];
        using var model = new OnnxGenAILanguageModel(runtimeModel);
        var generator = new Logits.Generation.TokenGenerator(model, LogitPipeline.CreateBuilder().Greedy(), new Logits.Generation.GenerationOptions { MaxNewTokens = 12 });
        var withLogits = generator.Generate(prompt).Tokens;

        using var parameters = new Microsoft.ML.OnnxRuntimeGenAI.GeneratorParams(runtimeModel);
        parameters.SetSearchOption("max_length", prompt.Length + 12);
        parameters.SetSearchOption("do_sample", false);
        using var runtime = new Microsoft.ML.OnnxRuntimeGenAI.Generator(runtimeModel, parameters);
        runtime.AppendTokens(prompt);
        var withRuntime = new List<int>();
        while (!runtime.IsDone())
        {
            runtime.GenerateNextToken();
            withRuntime.Add(runtime.GetNextTokens()[0]);
        }

        Console.WriteLine($"      Logits: {string.Join(" ", withLogits)}; runtime: {string.Join(" ", withRuntime)}");
        Expect(withLogits.Count == 12 && withLogits.SequenceEqual(withRuntime), "the two greedy runs differ");
    }
    finally
    {
        System.IO.Directory.Delete(folder, recursive: true);
    }
});

Console.WriteLine(failures.Count == 0 ? "package consumer: all checks passed" : $"package consumer: {failures.Count} check(s) failed");
return failures.Count == 0 ? 0 : 1;
