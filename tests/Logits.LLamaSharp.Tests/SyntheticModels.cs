using System;
using System.Collections.Concurrent;
using System.IO;
using LLama;
using LLama.Common;
using LLama.Native;
using Logits.LLamaSharp.Gguf;

namespace Logits.LLamaSharp.Tests;

/// <summary>
/// Synthetic GGUF models written once per test run into a temporary folder and loaded once (llama.cpp weights are
/// read-only and shared; every test makes its own context).
/// </summary>
public static class SyntheticModels
{
    private static readonly ConcurrentDictionary<string, Lazy<(string Path, LLamaWeights Weights)>> Models = new();
    private static readonly string Folder = Directory.CreateTempSubdirectory("logits-llamasharp-tests-").FullName;

    static SyntheticModels()
    {
        // llama.cpp logs every load to stderr; keep test output readable. Every test class that loads llama.cpp calls
        // EnsureNativeLoaded first, so this runs before the library is loaded; should a load ever come first anyway, the
        // log stays on rather than every test failing.
        try
        {
            NativeLibraryConfig.All.WithLogCallback((level, message) => { });
        }
        catch (InvalidOperationException)
        {
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };
    }

    /// <summary>Loads llama.cpp's native library (LLamaSharp loads it on the first native call that goes through its resolver).</summary>
    public static void EnsureNativeLoaded() => NativeApi.llama_empty_call();

    /// <summary>The default synthetic model (V = 512, d = 64, one block).</summary>
    public static LLamaWeights Small => Get(new SyntheticLlamaModelOptions()).Weights;

    /// <summary>Writes (once) and loads (once) the model of <paramref name="options"/>.</summary>
    public static (string Path, LLamaWeights Weights) Get(SyntheticLlamaModelOptions options)
    {
        string key = $"v{options.VocabSize}-d{options.EmbeddingLength}-b{options.BlockCount}-h{options.HeadCount}-s{options.Seed}-a{options.SuccessorStrength}-c{options.ContextStrength}";
        return Models.GetOrAdd(key, k => new Lazy<(string, LLamaWeights)>(() =>
        {
            string path = Path.Combine(Folder, k + ".gguf");
            SyntheticLlamaModel.Write(path, options);
            var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { GpuLayerCount = 0 });
            return (path, weights);
        })).Value;
    }

    /// <summary>Context parameters for tests: small context, the given number of sequences, two threads.</summary>
    public static ModelParams ContextParams(string path, uint sequences = 1, uint contextSize = 1024) => new(path)
    {
        ContextSize = contextSize,
        SeqMax = sequences,
        BatchSize = 512,
        UBatchSize = 512,
        Threads = 2,
        BatchThreads = 2,
        GpuLayerCount = 0,
    };
}
