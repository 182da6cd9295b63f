using Logits.Processing;

namespace Logits.Pipelines;

/// <summary>
/// The sampling settings of Hugging Face <c>generate()</c>, with its defaults, for <see cref="SamplingPresets.HuggingFace"/>.
/// </summary>
/// <remarks>A setting at its neutral value (the "off" value in its description) leaves its step out, as
/// <c>generate()</c> does. Any other value must be in its range: <see cref="SamplingPresets.HuggingFace"/> throws
/// <see cref="System.ArgumentOutOfRangeException"/> naming the property for NaN or an out-of-range value.</remarks>
public sealed class HuggingFaceSamplingOptions
{
    /// <summary>Sample (default) or decode greedily (<c>do_sample=False</c>).</summary>
    public bool DoSample { get; init; } = true;

    /// <summary>The selector seed; row <c>r</c> uses <c>Seed + r</c>. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Temperature, applied before truncation (default 1 = off).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Top-k (default 50; ≤ 0 = off).</summary>
    public int TopK { get; init; } = 50;

    /// <summary>Top-p in [0, 1] (default 1 = off).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Min-p in [0, 1] (default 0 = off).</summary>
    public double MinP { get; init; }

    /// <summary>Typical mass in (0, 1] (default 1 = off; HF's inclusive boundary).</summary>
    public double TypicalP { get; init; } = 1.0;

    /// <summary>Epsilon cut-off in [0, 1) (default 0 = off).</summary>
    public double EpsilonCutoff { get; init; }

    /// <summary>Eta cut-off in [0, 1) (default 0 = off).</summary>
    public double EtaCutoff { get; init; }

    /// <summary>Repetition penalty θ (default 1 = off).</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>No-repeat n-gram size, at least 0 (default 0 = off).</summary>
    public int NoRepeatNGramSize { get; init; }

    /// <summary>Classifier-free guidance scale (default 1 = off); needs <see cref="GuidanceProvider"/>.</summary>
    public double GuidanceScale { get; init; } = 1.0;

    /// <summary>The unconditional-logits provider for classifier-free guidance.</summary>
    public Logits.Processing.Guidance.IUnconditionalLogitsProvider? GuidanceProvider { get; init; }

    /// <summary>
    /// Constraint and user processors (sequence bias, bad words, min length, allowed tokens, forced BOS/EOS,
    /// suppress, custom), run after the penalties and before temperature, in the given order.
    /// </summary>
    public IReadOnlyList<ILogitProcessor>? Processors { get; init; }
}
