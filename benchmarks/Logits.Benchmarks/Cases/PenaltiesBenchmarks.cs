using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using LLama.Native;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Pipelines;
using Logits.Processing.Penalties;
using Logits.Selection;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>Repetition 1.1 + frequency 0.1 + presence 0.1 penalties over a 4096-token history (<see cref="LogitInput.History"/>).</summary>
/// <remarks>
/// Logits' <see cref="PenaltiesProcessor"/> touches only the distinct ids of the history. llama.cpp keeps counts of its
/// last 4096 accepted tokens and looks up every candidate (the history is accepted once, at setup). TorchSharp does
/// Hugging Face's repetition form (<c>gather</c>, <c>where</c>, <c>scatter</c>) and <c>bincount</c> for the additive
/// penalties. The scalar peer counts into an <c>int[V]</c> with a touched list.
/// </remarks>
[Case("penalties (4096 history)")]
public class PenaltiesBenchmarks : LlamaSamplingCase, ICheckedCase
{
    private const float Repetition = 1.1f;
    private const float Frequency = 0.1f;
    private const float Presence = 0.1f;
    private readonly PenaltiesProcessor _penalties = new(Repetition, Frequency, Presence, window: -1, PenaltyScope.PromptAndOutput, PenaltyScope.PromptAndOutput);
    private LogitPipeline _pipeline = null!;
    private int[] _history = [];
    private int[] _counts = [];
    private int[] _touched = [];
    private torch.Tensor _historyTensor = null!;

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' penalties processor, after the copy in.</summary>
    /// <summary>
    /// The processor as a runtime adapter runs it: the row copied in with <c>CopyRowFrom</c> (the copy also checks it,
    /// as the LLamaSharp adapter does), then a pipeline of the penalties alone, whose entry check the copy has already
    /// made, so the processor pays for its sparse edits only.
    /// </summary>
    [Benchmark(Baseline = true, Description = "Logits CopyRowFrom + pipeline [PenaltiesProcessor]")]
    [Peer(Peer.Logits)]
    public void Logits()
    {
        Next();
        Batch.CopyRowFrom(0, Input);
        _pipeline.Process(Batch, Contexts);
    }

    [Benchmark(Description = "TorchSharp gather/where/scatter + bincount")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        TorchCore();
    }

    /// <summary>Scalar counts and updates.</summary>
    [Benchmark(Description = "scalar counts + updates")]
    [Peer(Peer.Scalar)]
    public void Scalar()
    {
        Next();
        ScalarSampling.Penalties(Input, _history, Repetition, Frequency, Presence, _counts, _touched, Destination);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        Logits();
        var logits = Batch.ToArray();
        Scalar();
        string? scalar = CompareValues("scalar", logits, Destination, 1e-5, 1e-6);
        LlamaCpp();
        var llamaLogits = Llama.KeptLogits();
        var llamaRow = new float[Vocab];
        foreach (var (id, value) in llamaLogits)
        {
            llamaRow[id] = value;
        }

        string? llama = llamaLogits.Count == Vocab ? CompareValues("llama.cpp", logits, llamaRow, 1e-5, 1e-6) : $"llama.cpp: {llamaLogits.Count} candidates left, expected {Vocab}";
        using var scope = torch.NewDisposeScope();
        return Messages(scalar, llama, CompareValues("TorchSharp", logits, TorchCore().data<float>().ToArray(), 1e-5, 1e-6));
    }

    /// <inheritdoc/>
    protected override void SetupCase()
    {
        _history = LogitInput.History(Vocab);
        _counts = new int[Vocab];
        _touched = new int[_history.Length];
        _historyTensor = torch.tensor(_history, torch.int64);
        Contexts[0].SetHistory(_history, promptLength: 0);
        _pipeline = new LogitPipeline(new[] { _penalties }, new GreedySelector());
        base.SetupCase();
    }

    /// <inheritdoc/>
    protected override void CleanupCase()
    {
        _historyTensor.Dispose();
        base.CleanupCase();
    }

    /// <inheritdoc/>
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddPenalties(_history.Length, Repetition, Frequency, Presence);
        foreach (int token in _history)
        {
            chain.Accept(token);
        }

        return chain;
    }

    private torch.Tensor TorchCore()
    {
        // Scalars held by `using` across the native calls (an implicitly converted one may be freed mid-call).
        using var zero = 0.ToScalar();
        using var repetition = Repetition.ToScalar();
        using var frequency = Frequency.ToScalar();
        using var presence = Presence.ToScalar();
        var score = Tensor.gather(0, _historyTensor);
        score = torch.where(score.lt(zero), score.mul(repetition), score.div(repetition));
        var penalised = Tensor.scatter(0, _historyTensor, score);
        var counts = torch.bincount(_historyTensor, minlength: Vocab).to_type(torch.float32);
        return penalised - counts.mul(frequency) - counts.gt(zero).to_type(torch.float32).mul(presence);
    }
}
