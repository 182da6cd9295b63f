using Logits.Processing;

namespace Logits.Pipelines;

/// <summary>
/// The settings of llama.cpp's common sampler chain, with its defaults, for <see cref="SamplingPresets.LlamaCpp"/>.
/// </summary>
/// <remarks>A setting at its neutral value (top-k ≤ 0, top-p 1, min-p 0, penalties 1/0, DRY multiplier 0,
/// XTC probability 0, top-nσ ≤ 0, typical 1, dynamic temperature range 0) leaves its step out, as llama.cpp
/// does. Any other value must be in its range: <see cref="SamplingPresets.LlamaCpp"/> throws
/// <see cref="System.ArgumentOutOfRangeException"/> naming the property for NaN or an out-of-range value
/// (top-p 1.5 or NaN never silently turns top-p off).</remarks>
public sealed class LlamaCppSamplingOptions
{
    /// <summary>The selector seed; row <c>r</c> uses <c>Seed + r</c>. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Temperature, applied last (default 0.8; below 1e-5 is greedy).</summary>
    public double Temperature { get; init; } = 0.8;

    /// <summary>Dynamic temperature range Δ, at least 0 (default 0 = plain temperature).</summary>
    public double DynamicTemperatureRange { get; init; }

    /// <summary>Dynamic temperature exponent (default 1).</summary>
    public double DynamicTemperatureExponent { get; init; } = 1.0;

    /// <summary>Top-k (default 40; ≤ 0 = off).</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Top-p in [0, 1] (default 0.95; 1 = off).</summary>
    public double TopP { get; init; } = 0.95;

    /// <summary>Min-p in [0, 1] (default 0.05; 0 = off).</summary>
    public double MinP { get; init; } = 0.05;

    /// <summary>Typical mass in (0, 1] (default 1 = off; llama.cpp's strict boundary).</summary>
    public double TypicalP { get; init; } = 1.0;

    /// <summary>Top-nσ, finite (default −1; ≤ 0 = off, as llama.cpp).</summary>
    public double TopNSigma { get; init; } = -1;

    /// <summary>Repetition penalty θ (default 1 = off).</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>Frequency penalty (default 0 = off).</summary>
    public double FrequencyPenalty { get; init; }

    /// <summary>Presence penalty (default 0 = off).</summary>
    public double PresencePenalty { get; init; }

    /// <summary>How many last tokens the penalties read, at least −1 (default 64; −1 = whole history; 0 = penalties off, as llama.cpp).</summary>
    public int PenaltyLastN { get; init; } = 64;

    /// <summary>DRY multiplier (default 0 = off).</summary>
    public double DryMultiplier { get; init; }

    /// <summary>DRY base (default 1.75).</summary>
    public double DryBase { get; init; } = 1.75;

    /// <summary>DRY allowed length (default 2).</summary>
    public int DryAllowedLength { get; init; } = 2;

    /// <summary>DRY window, at least −1 (default −1 = whole history; 0 = DRY off, as llama.cpp).</summary>
    public int DryPenaltyLastN { get; init; } = -1;

    /// <summary>DRY sequence-breaker token ids (default none).</summary>
    public IReadOnlyList<int>? DrySequenceBreakers { get; init; }

    /// <summary>XTC probability in [0, 1] (default 0 = off).</summary>
    public double XtcProbability { get; init; }

    /// <summary>XTC threshold (default 0.1).</summary>
    public double XtcThreshold { get; init; } = 0.1;

    /// <summary>Logit bias by token id (default none).</summary>
    public IReadOnlyDictionary<int, double>? LogitBias { get; init; }

    /// <summary>Constraint processors (allowed tokens, bad words, min length, ...), run after the logit bias.</summary>
    public IReadOnlyList<ILogitProcessor>? Constraints { get; init; }

    /// <summary>Mirostat version: 0 (off, default), 1 or 2; when on, the truncation steps are dropped.</summary>
    public int Mirostat { get; init; }

    /// <summary>Mirostat target surprise τ (default 5).</summary>
    public double MirostatTau { get; init; } = 5;

    /// <summary>Mirostat learning rate η (default 0.1).</summary>
    public double MirostatEta { get; init; } = 0.1;
}
