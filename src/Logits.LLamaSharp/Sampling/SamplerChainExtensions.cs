using LLama.Native;
using Logits.Processing;

namespace Logits.LLamaSharp.Sampling;

/// <summary>Adds Logits stages to llama.cpp sampler chains and samples with their errors surfaced.</summary>
public static class SamplerChainExtensions
{
    /// <summary>Adds <paramref name="processors"/> as one stage at the end of the chain.</summary>
    /// <param name="chain">The llama.cpp sampler chain.</param>
    /// <param name="vocabSize">The model's vocabulary size (<c>model.Vocab.Count</c>).</param>
    /// <param name="processors">The processors, in order.</param>
    /// <returns>The stage (owned by the chain), for <see cref="LogitsChainStage.SetPrompt"/> and <see cref="LogitsChainStage.ThrowIfFaulted"/>.</returns>
    public static LogitsChainStage AddLogits(this SafeLLamaSamplerChainHandle chain, int vocabSize, params ILogitProcessor[] processors) =>
        chain.AddLogits(vocabSize, (IEnumerable<ILogitProcessor>)processors);

    /// <summary>Adds <paramref name="processors"/> as one stage at the end of the chain.</summary>
    /// <param name="chain">The llama.cpp sampler chain.</param>
    /// <param name="vocabSize">The model's vocabulary size (<c>model.Vocab.Count</c>).</param>
    /// <param name="processors">The processors, in order.</param>
    /// <returns>The stage (owned by the chain).</returns>
    public static LogitsChainStage AddLogits(this SafeLLamaSamplerChainHandle chain, int vocabSize, IEnumerable<ILogitProcessor> processors)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var stage = new LogitsChainStage(vocabSize, processors);
        chain.AddCustom(stage);
        return stage;
    }

    /// <summary>Samples with the chain (which accepts the token), then rethrows any error the stage kept.</summary>
    /// <param name="chain">The chain holding <paramref name="stage"/>.</param>
    /// <param name="context">The context that decoded the batch.</param>
    /// <param name="index">The batch index to sample.</param>
    /// <param name="stage">The Logits stage in the chain.</param>
    /// <returns>The token.</returns>
    /// <exception cref="LogitsChainStageException">The stage failed during this sample.</exception>
    public static LLamaToken Sample(this SafeLLamaSamplerChainHandle chain, SafeLLamaContextHandle context, int index, LogitsChainStage stage)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(stage);
        stage.ThrowIfFaulted();
        var token = chain.Sample(context, index);
        stage.ThrowIfFaulted();
        return token;
    }
}
