using System;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Rectification;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>The sizes and schedules of the pre-train → fine-tune experiment.</summary>
/// <param name="Width">Pilot width d_P.</param>
/// <param name="Heads">Pilot attention heads.</param>
/// <param name="Layers">Pilot blocks.</param>
/// <param name="CopilotWidth">Copilot width d (equal to the Pilot's, so the Pilot's block weights can be copied in).</param>
/// <param name="CopilotLayers">Copilot layers N_C (each: self-attention, cross-attention, feed-forward).</param>
/// <param name="CopilotHeads">Copilot attention heads.</param>
/// <param name="PretrainSteps">Pre-training steps on the source task (addition).</param>
/// <param name="PretrainLearningRate">Peak learning rate of pre-training (warm-up + cosine).</param>
/// <param name="FinetuneSteps">Fine-tuning steps on the target task (subtraction); the Copilot trains alongside.</param>
/// <param name="FinetuneLearningRate">Peak learning rate of the Pilot's fine-tuning (warm-up + cosine).</param>
/// <param name="CopilotLearningRate">Peak learning rate of the Copilot (warm-up + cosine over the same steps).</param>
/// <param name="BatchSize">Problems per step (pre-training, fine-tuning, and the Copilot's batch from the Mistake Log).</param>
/// <param name="WeightDecay">AdamW weight decay (every optimizer).</param>
/// <param name="TargetSize">The fixed fine-tuning set (training-side subtraction problems).</param>
/// <param name="ValidationSize">Validation problems (λ is chosen on them).</param>
/// <param name="TestSize">Held-out test problems (the same for every seed and arm).</param>
/// <param name="CopilotBatchSize">Sequences per Copilot step, sampled from the Mistake Log.</param>
/// <param name="LibraryCheckSize">Test problems generated one at a time through the library's <c>TokenGenerator</c>, to check
/// the batched evaluation and to time inference.</param>
public sealed record ExperimentConfig(
    int Width,
    int Heads,
    int Layers,
    int CopilotWidth,
    int CopilotLayers,
    int CopilotHeads,
    int PretrainSteps,
    double PretrainLearningRate,
    int FinetuneSteps,
    double FinetuneLearningRate,
    double CopilotLearningRate,
    int BatchSize,
    double WeightDecay,
    int TargetSize,
    int ValidationSize,
    int TestSize,
    int CopilotBatchSize,
    int LibraryCheckSize)
{
    /// <summary>The full run: a 3-block Pilot of width 64 and a 1-layer Copilot of the same width (about 45% of the Pilot's parameters).</summary>
    public static ExperimentConfig Default { get; } = new(
        Width: 64, Heads: 4, Layers: 3, CopilotWidth: 64, CopilotLayers: 1, CopilotHeads: 4,
        PretrainSteps: 1500, PretrainLearningRate: 3e-3, FinetuneSteps: 400, FinetuneLearningRate: 3e-3, CopilotLearningRate: 3e-3,
        BatchSize: 64, WeightDecay: 0.01, TargetSize: 2000, ValidationSize: 400, TestSize: 1000, CopilotBatchSize: 64, LibraryCheckSize: 100);

    /// <summary>The quick run (tests, CI): tiny models and few steps; it checks the mechanics, not the result.</summary>
    public static ExperimentConfig Quick { get; } = new(
        Width: 32, Heads: 2, Layers: 2, CopilotWidth: 32, CopilotLayers: 1, CopilotHeads: 2,
        PretrainSteps: 200, PretrainLearningRate: 3e-3, FinetuneSteps: 40, FinetuneLearningRate: 1e-3, CopilotLearningRate: 1e-3,
        BatchSize: 32, WeightDecay: 0.01, TargetSize: 500, ValidationSize: 100, TestSize: 200, CopilotBatchSize: 32, LibraryCheckSize: 30);

    /// <summary>The Pilot's transformer options (width overridable, for the parameter-matched baseline).</summary>
    /// <param name="data">The data (sequence length).</param>
    /// <param name="width">The width (default <see cref="Width"/>).</param>
    /// <returns>The options.</returns>
    public DecoderTransformerOptions PilotOptions(TransferData data, int? width = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new DecoderTransformerOptions
        {
            VocabSize = CharTokenizer.VocabSize,
            MaxSequenceLength = data.MaxSequenceLength,
            Width = width ?? Width,
            Heads = Heads,
            Layers = Layers,
        };
    }

    /// <summary>The Copilot's options: every layer cross-attends (the paper's layout, the library default).</summary>
    /// <returns>The options.</returns>
    public CopilotOptions CopilotOptions() => new()
    {
        VocabSize = CharTokenizer.VocabSize,
        PilotWidth = Width,
        Width = CopilotWidth,
        Layers = CopilotLayers,
        Heads = CopilotHeads,
    };
}
