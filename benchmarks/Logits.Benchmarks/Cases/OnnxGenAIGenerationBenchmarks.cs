using System;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using BenchmarkDotNet.Attributes;
using Logits.OnnxRuntimeGenAI.Models;
using Logits.OnnxRuntimeGenAI.Onnx;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Tensors;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Logits.Benchmarks.Cases;

/// <summary>
/// One generation step of an ONNX Runtime GenAI model, per token: Logits choosing the token (the adapter reads the
/// last-token logits, Hugging Face's chain runs, the token is appended) against the runtime's own search
/// (<c>GenerateNextToken</c>) at the same settings, with each side's forward pass alone as its floor.
/// </summary>
/// <remarks>
/// <para>Setup writes the synthetic model of the case's vocabulary (<see cref="SyntheticOnnxModel"/>: d = 16, one
/// cached key per token), loads it once on the CPU execution provider and appends a 16-token prompt. Settings on both
/// sides: temperature 0.75, top-k 40, top-p 0.9, seeded multinomial draw (<c>do_sample</c>, <c>random_seed</c>).
/// Every call is one new token including the forward pass of the previous one. After 64 new tokens both sides go back
/// to the prompt (the adapter by the shorter context, the runtime by <c>RewindTo</c> and appending the last prompt
/// token again), so contexts stay short and equal. The runtime also goes back when its search samples an EOS (possible
/// at V = 512; Logits' chain does not stop there).</para>
/// <para>Peers: <b>Logits</b> = <c>OnnxGenAILanguageModel.NextTokenLogits</c> + <c>LogitPipeline.Sample</c>;
/// <b>Logits forward</b> = the same call to the adapter with a fixed token (no pipeline); <b>runtime</b> =
/// <c>Generator.GenerateNextToken</c>; <b>runtime forward</b> = <c>Generator.AppendTokens</c> of a fixed token.
/// Logits' sampling cost is Logits − Logits forward; the runtime's is runtime − runtime forward.</para>
/// </remarks>
[MemoryDiagnoser]
[SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the instance; [GlobalCleanup] disposes the native state.")]
public class OnnxGenAIGenerationBenchmarks
{
    private const int PromptLength = 16;
    private const int NewTokens = 64;
    private const ulong Seed = 42;

    private string _folder = "";
    private Model _runtimeModel = null!;
    private OnnxGenAILanguageModel _adapter = null!;
    private OnnxGenAILanguageModel _adapterForward = null!;
    private Generator _runtime = null!;
    private Generator _runtimeForward = null!;
    private LogitPipeline _pipeline = null!;
    private LogitBatch _batch = null!;
    private CpuLogitBatch _forwardBatch = null!;
    private readonly SamplingContext[] _contexts = [new SamplingContext()];
    private readonly int[] _history = new int[PromptLength + NewTokens];
    private readonly int[] _forwardHistory = new int[PromptLength + NewTokens];
    private readonly ReadOnlyMemory<int>[] _rows = new ReadOnlyMemory<int>[1];
    private int _length;
    private int _forwardLength;
    private int _runtimeGenerated;
    private int _runtimeForwardGenerated;

    /// <summary>The vocabulary size V of the synthetic model.</summary>
    [Params(512, 32000)]
    public int Vocab { get; set; }

    /// <summary>Writes and loads the model, appends the prompt on every side.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"logits-bench-onnx-v{Vocab}-{Environment.ProcessId}");
        SyntheticOnnxModel.Create(new SyntheticOnnxModelOptions { VocabSize = Vocab, ContextLength = PromptLength + NewTokens + 1 }).Write(_folder);
        _runtimeModel = new Model(_folder);
        var random = new Random(7);
        for (int i = 0; i < PromptLength; i++)
        {
            _history[i] = _forwardHistory[i] = i == 0 ? SyntheticOnnxModel.EndOfTextId : random.Next(SyntheticOnnxModel.MinimumVocabSize, Vocab == 512 ? 512 : 4000);
        }

        _adapter = new OnnxGenAILanguageModel(_runtimeModel);
        _adapterForward = new OnnxGenAILanguageModel(_runtimeModel);
        _batch = _adapter.CreateLogitBatch(1);
        _forwardBatch = (CpuLogitBatch)_adapterForward.CreateLogitBatch(1);
        _pipeline = SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions { Seed = Seed, Temperature = 0.75f, TopK = 40, TopP = 0.9 });
        _length = _forwardLength = PromptLength;

        _runtime = RuntimeGenerator(sample: true);
        _runtimeForward = RuntimeGenerator(sample: false);
    }

    /// <summary>Frees the native state and deletes the model folder.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _batch.Dispose();
        _forwardBatch.Dispose();
        _adapter.Dispose();
        _adapterForward.Dispose();
        _runtime.Dispose();
        _runtimeForward.Dispose();
        _runtimeModel.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Logits: read the logits of the context (the forward pass of its last token), sample, append.</summary>
    [Benchmark(Baseline = true, Description = "Logits: adapter + HF chain")]
    public int Logits()
    {
        if (_length == _history.Length)
        {
            _length = PromptLength;
        }

        _rows[0] = _history.AsMemory(0, _length);
        _adapter.NextTokenLogits(_rows, _batch);
        _contexts[0].SetHistory(_rows[0], PromptLength);
        int token = _pipeline.Sample(_batch, _contexts[0]);
        _history[_length++] = token;
        return token;
    }

    /// <summary>The adapter's forward pass and logits read alone (a fixed next token, no pipeline).</summary>
    [Benchmark(Description = "Logits forward only (adapter)")]
    public float LogitsForward()
    {
        if (_forwardLength == _forwardHistory.Length)
        {
            _forwardLength = PromptLength;
        }

        _rows[0] = _forwardHistory.AsMemory(0, _forwardLength);
        _adapterForward.NextTokenLogits(_rows, _forwardBatch);
        _forwardHistory[_forwardLength++] = 'a';
        return _forwardBatch.GetRow(0)[0];
    }

    /// <summary>The runtime's own search with the same settings: one <c>GenerateNextToken</c> (and <c>IsDone</c>, as
    /// every generation loop over the runtime calls it: continuing after a sampled EOS corrupts its KV cache).</summary>
    [Benchmark(Description = "runtime GenerateNextToken")]
    public int Runtime()
    {
        if (_runtimeGenerated == NewTokens || _runtime.IsDone())
        {
            Rewind(_runtime);
            _runtimeGenerated = 0;
        }

        _runtime.GenerateNextToken();
        _runtimeGenerated++;
        return _runtime.GetNextTokens()[0];
    }

    /// <summary>The runtime's forward pass alone: <c>AppendTokens</c> of a fixed token.</summary>
    [Benchmark(Description = "runtime forward only (AppendTokens)")]
    public ulong RuntimeForward()
    {
        if (_runtimeForwardGenerated == NewTokens)
        {
            Rewind(_runtimeForward);
            _runtimeForwardGenerated = 0;
        }

        _runtimeForward.AppendTokens([(int)'a']);
        _runtimeForwardGenerated++;
        return _runtimeForward.TokenCount();
    }

    private Generator RuntimeGenerator(bool sample)
    {
        using var parameters = new GeneratorParams(_runtimeModel);
        parameters.SetSearchOption("max_length", PromptLength + NewTokens + 1);
        parameters.SetSearchOption("do_sample", sample);
        if (sample)
        {
            parameters.SetSearchOption("temperature", 0.75);
            parameters.SetSearchOption("top_k", 40);
            parameters.SetSearchOption("top_p", 0.9);
            parameters.SetSearchOption("random_seed", (double)Seed);
        }

        var generator = new Generator(_runtimeModel, parameters);
        generator.AppendTokens(_history.AsSpan(0, PromptLength));
        return generator;
    }

    private void Rewind(Generator generator)
    {
        generator.RewindTo(PromptLength - 1);
        generator.AppendTokens(_history.AsSpan(PromptLength - 1, 1));
    }
}
