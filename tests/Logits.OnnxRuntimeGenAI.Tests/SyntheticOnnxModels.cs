using System;
using System.Collections.Concurrent;
using System.IO;
using Logits.OnnxRuntimeGenAI.Onnx;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Logits.OnnxRuntimeGenAI.Tests;

/// <summary>
/// Synthetic ONNX Runtime GenAI models written once per test run into a temporary folder and loaded once (a runtime
/// <see cref="Model"/> is shared; every test makes its own generators).
/// </summary>
public static class SyntheticOnnxModels
{
    private static readonly ConcurrentDictionary<(int Vocab, int Context, int Seed), Lazy<Loaded>> Models = new();
    private static readonly string Folder = Directory.CreateTempSubdirectory("logits-onnx-tests-").FullName;

    static SyntheticOnnxModels()
    {
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

    /// <summary>The default test model: V = 300 (40 merges), context 64.</summary>
    public static Loaded Small => Get(300, 64, 1);

    /// <summary>Writes (once) and loads (once) a model.</summary>
    public static Loaded Get(int vocab, int contextLength, int seed) =>
        Models.GetOrAdd((vocab, contextLength, seed), key => new Lazy<Loaded>(() =>
        {
            var synthetic = SyntheticOnnxModel.Create(new SyntheticOnnxModelOptions { VocabSize = key.Vocab, ContextLength = key.Context, Seed = key.Seed });
            string path = Path.Combine(Folder, $"v{key.Vocab}-c{key.Context}-s{key.Seed}");
            synthetic.Write(path);
            return new Loaded(path, synthetic, new Model(path));
        })).Value;

    /// <summary>A written and loaded model.</summary>
    public sealed record Loaded(string Path, SyntheticOnnxModel Synthetic, Model Model)
    {
        /// <summary>The designed next-token logits of <paramref name="context"/>.</summary>
        public float[] Designed(ReadOnlySpan<int> context)
        {
            var logits = new float[Synthetic.VocabSize];
            Synthetic.DesignedLogits(context, logits);
            return logits;
        }
    }
}
