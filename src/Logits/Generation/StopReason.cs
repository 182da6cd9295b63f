namespace Logits.Generation;

/// <summary>Why a generation ended.</summary>
public enum StopReason
{
    /// <summary>Generation has not ended (or was cancelled).</summary>
    None,

    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were generated.</summary>
    MaxNewTokens,

    /// <summary>An end-of-sequence id was sampled.</summary>
    EndOfSequence,

    /// <summary>The output ended with a stop sequence.</summary>
    StopSequence,
}
