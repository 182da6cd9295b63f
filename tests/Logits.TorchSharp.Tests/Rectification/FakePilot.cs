using System;
using System.Collections.Generic;
using Logits.Generation;
using Logits.Tensors;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Tests.Rectification;

/// <summary>
/// A tiny causal Pilot for tests: token + position embeddings, then per layer <c>h ← h + tanh(W · cummean(h))</c>
/// (position k mixes only positions ≤ k), then a linear head. Its weights come from a private generator seeded by
/// <c>seed</c>, so construction does not depend on torch's global generator (test classes run in parallel).
/// </summary>
internal sealed class FakePilot : Module<Tensor, Tensor>, IPilotModel
{
    private readonly Embedding _tokens;
    private readonly Embedding _positions;
    private readonly ModuleList<Linear> _mixers;
    private readonly Linear _head;

    public FakePilot(int vocabSize, int width, int layers, int maxSequenceLength, ulong seed)
        : base(nameof(FakePilot))
    {
        VocabSize = vocabSize;
        Width = width;
        Layers = layers;
        MaxSequenceLength = maxSequenceLength;
        _tokens = Embedding(vocabSize, width);
        _positions = Embedding(maxSequenceLength, width);
        _mixers = new ModuleList<Linear>();
        for (int l = 0; l < layers; l++)
        {
            _mixers.Add(Linear(width, width));
        }

        _head = Linear(width, vocabSize);
        RegisterComponents();
        using var noGrad = no_grad();
        using var generator = new Generator(seed, CPU);
        foreach (var parameter in parameters())
        {
            double scale = parameter.Dimensions >= 2 ? 1.0 / Math.Sqrt(parameter.shape[^1]) : 0.1;
            using var value = randn(parameter.shape, ScalarType.Float32, CPU, generator: generator).Times(scale);
            parameter.copy_(value);
        }
    }

    public int VocabSize { get; }

    public int Width { get; }

    public int Layers { get; }

    public int MaxSequenceLength { get; }

    public PilotOutput Forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        long length = tokens.shape[1];
        var counts = TorchScalars.Range(1, length + 1, ScalarType.Float32, tokens.device).view(1, length, 1);
        Tensor e = _tokens.forward(tokens).Plus(_positions.forward(TorchScalars.Range(0, length, device: tokens.device)));
        var states = new List<Tensor>();
        Tensor h = e;
        foreach (var mixer in _mixers)
        {
            h = h.Plus(mixer.forward(h.cumsum(1) / counts).tanh());
            states.Add(h.MoveToOuterDisposeScope());
        }

        return new PilotOutput(_head.forward(h).MoveToOuterDisposeScope(), e.MoveToOuterDisposeScope(), states);
    }

    public override Tensor forward(Tensor input)
    {
        using var output = Forward(input);
        return output.Logits.clone();
    }
}

/// <summary>The fake Pilot alone as a plain language model: next-token logits of each context's last position.</summary>
internal sealed class PilotLanguageModel : ILanguageModel
{
    private readonly FakePilot _pilot;

    public PilotLanguageModel(FakePilot pilot) => _pilot = pilot;

    public int VocabSize => _pilot.VocabSize;

    public LogitBatch CreateLogitBatch(int rows) => new TorchLogitBatch(rows, VocabSize);

    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int r = 0; r < contexts.Count; r++)
        {
            var ids = contexts[r].ToArray();
            var tokens = tensor(Array.ConvertAll(ids, x => (long)x), new long[] { 1, ids.Length });
            using var output = _pilot.Forward(tokens);
            ((TorchLogitBatch)destination).Tensor[r].copy_(output.Logits[0][ids.Length - 1]);
        }
    }
}
