using System;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Logits.Diffusion;
using Logits.Tensors;

namespace Logits.Benchmarks;

/// <summary>
/// RADD sampling of one 128-token sequence with and without output caching, for several step counts, with a small CPU
/// "network" (a windowed embedding sum and a dense output layer) whose cost dominates like a real denoiser's.
/// </summary>
/// <remarks>
/// Without caching the network runs n times; with caching it runs once per step that reveals a token, on average
/// <c>n(1 − (1 − 1/n)^128)</c> times (<see cref="RaddNfe.Expected(int, int)"/>). Both runs draw identical sequences from the
/// same seed, so the ratio of their times is the speedup caching buys at equal output.
/// </remarks>
[MemoryDiagnoser]
public class RaddCachingBenchmarks
{
    private ToyDenoiser _denoiser = null!;

    /// <summary>Sampling steps n.</summary>
    [Params(64, 256, 1024, 4096)]
    public int Steps { get; set; }

    [GlobalSetup]
    public void Setup() => _denoiser = new ToyDenoiser(vocabulary: 512, width: 64, seed: 7);

    [Benchmark(Baseline = true, Description = "uncached")]
    public long Uncached() => new RaddSampler(Steps, caching: false).Sample(_denoiser, 1, 128, seed: 1).TotalFunctionEvaluations;

    [Benchmark(Description = "cached")]
    public long Cached() => new RaddSampler(Steps).Sample(_denoiser, 1, 128, seed: 1).TotalFunctionEvaluations;

    /// <summary>Logits at position i = (E[x_{i−1}] + E[x_i] + E[x_{i+1}]) · W, with random E and W.</summary>
    internal sealed class ToyDenoiser : ITimeIndependentDenoiser
    {
        private readonly float[] _embeddings;
        private readonly float[] _output;
        private readonly int _width;

        public ToyDenoiser(int vocabulary, int width, int seed)
        {
            Vocabulary = vocabulary;
            _width = width;
            var random = new Random(seed);
            _embeddings = new float[(vocabulary + 1) * width];
            _output = new float[width * vocabulary];
            for (int i = 0; i < _embeddings.Length; i++)
            {
                _embeddings[i] = (float)(random.NextDouble() - 0.5);
            }

            for (int i = 0; i < _output.Length; i++)
            {
                _output[i] = (float)(random.NextDouble() - 0.5);
            }
        }

        public int Vocabulary { get; }

        public int MaskId => Vocabulary;

        public LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences)
        {
            int length = tokens.Length / sequences;
            var batch = new CpuLogitBatch(tokens.Length, Vocabulary);
            Span<float> hidden = stackalloc float[_width];
            for (int r = 0; r < tokens.Length; r++)
            {
                int i = r % length;
                hidden.Clear();
                for (int j = Math.Max(0, i - 1); j <= Math.Min(length - 1, i + 1); j++)
                {
                    TensorPrimitives.Add(hidden, _embeddings.AsSpan(tokens[r - i + j] * _width, _width), hidden);
                }

                Span<float> row = batch.GetRow(r);
                for (int k = 0; k < _width; k++)
                {
                    TensorPrimitives.MultiplyAdd(_output.AsSpan(k * Vocabulary, Vocabulary), hidden[k], row, row);
                }
            }

            return batch;
        }
    }
}
