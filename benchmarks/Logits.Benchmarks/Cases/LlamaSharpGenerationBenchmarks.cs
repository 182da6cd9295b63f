using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using BenchmarkDotNet.Attributes;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Logits.Benchmarks.Infrastructure;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Sampling;
using Logits.Pipelines;
using Logits.Tensors;

namespace Logits.Benchmarks.Cases;

/// <summary>
/// Per-token sampling inside real LLamaSharp generation: the default chain (top-k 40, top-p 0.9, min-p 0.1,
/// T 0.75, seeded draw; LLamaSharp's <c>DefaultSamplingPipeline</c> settings) read from a llama.cpp context's logits,
/// Logits' <see cref="LogitsSamplingPipeline"/> against LLamaSharp's own pipeline.
/// </summary>
/// <remarks>
/// <para>Setup writes a synthetic llama-architecture GGUF of the case's vocabulary (d = 64, one block) to a temporary
/// file, loads it with LLamaSharp's CPU backend and decodes a 64-token prompt with logits requested at every
/// position, so the context holds 64 distinct real next-token rows; calls rotate through 64 of them up to V = 32000
/// and 16 at V = 128256 (the rows then fit the last-level cache, as a row llama.cpp has just computed does). Each call samples the next of those rows
/// (<c>ISamplingPipeline.Sample(ctx, i)</c>, exactly what an executor calls after each decode): Logits copies the row
/// out of llama.cpp's buffer and runs its pipeline; LLamaSharp's pipeline runs <c>llama_sampler_sample</c> (candidate
/// fill, the native chain, accept). Decoding is not timed. Both pipelines are reset every 4096 calls, so their
/// histories stay bounded.</para>
/// </remarks>
[Case("default chain in generation")]
[MemoryDiagnoser]
[SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the instance; [GlobalCleanup] disposes the native state.")]
public class LlamaSharpGenerationBenchmarks : ICheckedCase
{
    /// <summary>
    /// Distinct rows the calls rotate through: enough that no row is replayed hot, few enough that the rows fit the
    /// last-level cache as a row llama.cpp has just written does (64 up to V = 32000, 16 at 128256).
    /// </summary>
    private int Positions => Vocab <= 32000 ? 64 : 16;
    private const int ResetEvery = 4096;
    private const uint Seed = 42;

    private string _modelPath = "";
    private LLamaWeights _weights = null!;
    private LLamaContext _context = null!;
    private LogitsSamplingPipeline _logits = null!;
    private DefaultSamplingPipeline _llamaSharp = null!;
    private int _logitsIndex;
    private int _llamaSharpIndex;
    private int _logitsCalls;
    private int _llamaSharpCalls;

    /// <summary>The vocabulary size V of the synthetic model.</summary>
    [Params(512, 32000, 128256)]
    public int Vocab { get; set; }

    /// <summary>Writes and loads the model, decodes the prompt, creates both pipelines.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
        {
            // llama.cpp logs every load to stderr; the benchmark output must stay readable.
            NativeLibraryConfig.All.WithLogCallback((level, message) => { });
        }

        _modelPath = Path.Combine(Path.GetTempPath(), $"logits-bench-v{Vocab}-{Environment.ProcessId}.gguf");
        SyntheticLlamaModel.Write(_modelPath, new SyntheticLlamaModelOptions { VocabSize = Vocab, ContextStrength = 1.5f, SuccessorStrength = 0.5f });
        var parameters = new ModelParams(_modelPath) { ContextSize = 256, BatchSize = 256, UBatchSize = 256, Threads = 1, BatchThreads = 1, GpuLayerCount = 0 };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);

        var random = new Random(7);
        var batch = new LLamaBatch();
        for (int i = 0; i < 64; i++)
        {
            int token = i == 0 ? SpmVocabulary.BosId : random.Next(SpmVocabulary.FirstPieceId, Vocab);
            batch.Add(token, i, LLamaSeqId.Zero, logits: true);
        }

        if (_context.NativeHandle.Decode(batch) != DecodeResult.Ok)
        {
            throw new InvalidOperationException("The prompt did not decode.");
        }

        _logits = new LogitsSamplingPipeline(LogitsChain());
        _llamaSharp = LlamaSharpChain();
    }

    /// <summary>Deletes the model file and frees the native state.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _logits.Dispose();
        _llamaSharp.Dispose();
        _context.Dispose();
        _weights.Dispose();
        File.Delete(_modelPath);
    }

    /// <summary>Logits: copy the row out of llama.cpp, run the chain, commit the token.</summary>
    [Benchmark(Baseline = true, Description = "Logits LogitsSamplingPipeline.Sample")]
    [Peer(Peer.Logits)]
    public int Logits()
    {
        if (++_logitsCalls == ResetEvery)
        {
            _logitsCalls = 0;
            _logits.Reset();
        }

        int index = _logitsIndex;
        _logitsIndex = index == Positions - 1 ? 0 : index + 1;
        return (int)_logits.Sample(_context.NativeHandle, index);
    }

    /// <summary>LLamaSharp's DefaultSamplingPipeline with the same settings.</summary>
    [Benchmark(Description = "LLamaSharp DefaultSamplingPipeline.Sample")]
    [Peer(Peer.LlamaSharpPipeline)]
    public int LlamaSharp()
    {
        if (++_llamaSharpCalls == ResetEvery)
        {
            _llamaSharpCalls = 0;
            _llamaSharp.Reset();
        }

        int index = _llamaSharpIndex;
        _llamaSharpIndex = index == Positions - 1 ? 0 : index + 1;
        return (int)_llamaSharp.Sample(_context.NativeHandle, index);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        // The same chain without the draw: the candidates llama.cpp keeps must be the tokens Logits leaves finite.
        var messages = new List<string>();
        var processors = LogitsChain();
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddPenalties(64, 1f, 0f, 0f);
        chain.AddTopK(40);
        chain.AddTypical(1f, 1);
        chain.AddTopP(0.9f, 1);
        chain.AddMinP(0.1f, 1);
        chain.AddTemperature(0.75f);
        using var row = new CpuLogitBatch(1, Vocab);
        var context = new Logits.Processing.SamplingContext();
        var data = new LLamaTokenData[Vocab];
        for (int position = 0; position < Positions; position += 9)
        {
            var logits = _context.NativeHandle.GetLogitsIth(position);
            logits.CopyTo(row.GetRow(0));
            processors.Process(row, new[] { context });
            var kept = new SortedSet<int>();
            var values = row.GetRow(0);
            for (int i = 0; i < values.Length; i++)
            {
                if (!float.IsNegativeInfinity(values[i]))
                {
                    kept.Add(i);
                }
            }

            LLamaTokenDataArray.Create(logits, data);
            using var pin = LLamaTokenDataArrayNative.Create(new LLamaTokenDataArray(data, false), out var native);
            chain.Apply(ref native);
            var llamaKept = new SortedSet<int>();
            foreach (var candidate in native.Data)
            {
                llamaKept.Add((int)candidate.ID);
            }

            if (!kept.SetEquals(llamaKept))
            {
                messages.Add($"position {position}: Logits keeps {kept.Count} tokens, llama.cpp {llamaKept.Count}");
            }

            int token = Logits();
            int other = LlamaSharp();
            if (token < 0 || token >= Vocab || other < 0 || other >= Vocab)
            {
                messages.Add($"position {position}: tokens {token} / {other} outside the vocabulary");
            }
        }

        return messages;
    }

    private static LogitPipeline LogitsChain() => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions
    {
        Seed = Seed,
        TopK = 40,
        TypicalP = 1.0,
        TopP = 0.9,
        MinP = 0.1,
        Temperature = 0.75f,
        RepetitionPenalty = 1.0,
        PenaltyLastN = 64,
    });

    private static DefaultSamplingPipeline LlamaSharpChain() => new()
    {
        Seed = Seed,
        TopK = 40,
        TypicalP = 1f,
        TopP = 0.9f,
        MinP = 0.1f,
        Temperature = 0.75f,
        RepeatPenalty = 1f,
        PenaltyCount = 64,
    };
}
