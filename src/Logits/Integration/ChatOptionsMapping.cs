using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using Logits.Generation;
using Logits.Pipelines;
using Logits.Processing.Constraints;
using Logits.Processing.Penalties;
using Logits.Processing.Truncation;
using Microsoft.Extensions.AI;

namespace Logits.Integration;

// Errors name the ChatOptions property or additional-property key the caller set (e.g. "TopP",
// "logit_bias"), which is what a caller needs to fix, not this method's own parameter name.
#pragma warning disable CA2208

/// <summary>
/// Maps <c>Microsoft.Extensions.AI</c> <see cref="ChatOptions"/> to a Logits pipeline and stop rules, so a
/// model served through <c>IChatClient</c> samples with Logits.
/// </summary>
/// <remarks>
/// <para><b>Direct properties.</b> <see cref="ChatOptions.Temperature"/> → temperature;
/// <see cref="ChatOptions.TopP"/> → top-p (in [0, 1]); <see cref="ChatOptions.TopK"/> → top-k (≤ 0 means
/// "not added", as llama.cpp and vLLM treat 0/−1); <see cref="ChatOptions.FrequencyPenalty"/> and
/// <see cref="ChatOptions.PresencePenalty"/> → the additive OpenAI penalties over the output (range [−2, 2]
/// enforced here, as OpenAI and vLLM do; 0 = off; never mapped to the multiplicative repetition penalty,
/// the ONNX Runtime GenAI mistake of spec §8 item 12); <see cref="ChatOptions.Seed"/> → the selector seed
/// (without a seed, a random one is drawn, so runs differ); <see cref="ChatOptions.StopSequences"/> and
/// <see cref="ChatOptions.MaxOutputTokens"/> → <see cref="GenerationOptions"/>.</para>
/// <para><b>Additional properties</b> (llama.cpp server names): <c>min_p</c>, <c>repetition_penalty</c>
/// (multiplicative, 1 = off), <c>logit_bias</c> (token id → bias in [−100, 100]; a dictionary keyed by int or
/// by the id as a string, or a JSON object), <c>top_n_sigma</c>, <c>typical_p</c>, <c>dry_multiplier</c>,
/// <c>dry_base</c>, <c>dry_allowed_length</c>, <c>dry_penalty_last_n</c>, <c>xtc_probability</c>,
/// <c>xtc_threshold</c>. Numbers may be any numeric type, a numeric string, or a JSON number.</para>
/// <para><b>Order.</b> llama.cpp's chain (temperature last): logit bias → repetition → frequency/presence →
/// DRY → top-nσ → top-k → typical → top-p → min-p → XTC → temperature → multinomial. With
/// <see cref="SamplingOrder.HuggingFace"/> temperature moves to the front of the truncation steps.</para>
/// </remarks>
public static class ChatOptionsMapping
{
    /// <summary>Builds the sampling pipeline that <paramref name="options"/> describes.</summary>
    /// <param name="options">The chat options; <see langword="null"/> gives plain multinomial sampling at T = 1.</param>
    /// <param name="order">Where temperature goes (default: last, as llama.cpp).</param>
    /// <returns>The pipeline.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range; the parameter name is the option's name.</exception>
    /// <exception cref="ArgumentException">An additional property has a value of the wrong kind.</exception>
    public static LogitPipeline ToPipeline(this ChatOptions? options, SamplingOrder order = SamplingOrder.LlamaCpp)
    {
        var builder = LogitPipeline.CreateBuilder();
        var extra = options?.AdditionalProperties;

        var bias = ReadLogitBias(extra);
        if (bias is not null && bias.Count > 0)
        {
            builder.Add(new LogitBiasProcessor(bias));
        }

        double? repetition = ReadDouble(extra, "repetition_penalty");
        if (repetition is { } theta && theta != 1)
        {
            builder.Add(new RepetitionPenaltyProcessor(theta));
        }

        float frequency = CheckPenalty(options?.FrequencyPenalty, nameof(ChatOptions.FrequencyPenalty));
        float presence = CheckPenalty(options?.PresencePenalty, nameof(ChatOptions.PresencePenalty));
        if (frequency != 0 || presence != 0)
        {
            builder.Add(new FrequencyPresencePenaltyProcessor(frequency, presence));
        }

        double? dryMultiplier = ReadDouble(extra, "dry_multiplier");
        if (dryMultiplier is { } multiplier && multiplier != 0)
        {
            builder.Add(new DryProcessor(
                multiplier,
                ReadDouble(extra, "dry_base") ?? 1.75,
                (int)(ReadDouble(extra, "dry_allowed_length") ?? 2),
                (int)(ReadDouble(extra, "dry_penalty_last_n") ?? -1)));
        }

        float? temperature = options?.Temperature;
        if (temperature is { } t && !float.IsFinite(t))
        {
            throw new ArgumentOutOfRangeException(nameof(ChatOptions.Temperature), t, "'Temperature' must be finite.");
        }

        if (order == SamplingOrder.HuggingFace && temperature is { } early)
        {
            builder.Temperature(early);
        }

        double? nSigma = ReadDouble(extra, "top_n_sigma");
        if (nSigma is { } n && n > 0)
        {
            builder.Add(new TopNSigmaProcessor(n));
        }

        if (options?.TopK is { } k && k > 0)
        {
            builder.TopK(k);
        }

        double? typical = ReadDouble(extra, "typical_p");
        if (typical is { } mass && mass < 1)
        {
            builder.Add(new TypicalProcessor(mass));
        }

        if (options?.TopP is { } p)
        {
            if (!(p >= 0 && p <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(ChatOptions.TopP), p, "'TopP' must be in [0, 1].");
            }

            if (p < 1)
            {
                // float → double widening keeps the value the caller wrote as a float.
                builder.TopP((double)p);
            }
        }

        double? minP = ReadDouble(extra, "min_p");
        if (minP is { } pMin && pMin > 0)
        {
            builder.MinP(pMin);
        }

        ulong seed = options?.Seed is { } s ? unchecked((ulong)s) : unchecked((ulong)Random.Shared.NextInt64());
        double? xtcProbability = ReadDouble(extra, "xtc_probability");
        if (xtcProbability is { } xp && xp > 0)
        {
            // A stream separate from the selector's (spec §3a XTC): seed + a fixed odd offset.
            builder.Add(new XtcProcessor(xp, ReadDouble(extra, "xtc_threshold") ?? 0.1, unchecked(seed + 0x9E3779B97F4A7C15UL)));
        }

        if (order == SamplingOrder.LlamaCpp && temperature is { } late)
        {
            builder.Temperature(late);
        }

        return builder.Multinomial(seed);
    }

    /// <summary>The stop rules that <paramref name="options"/> describes.</summary>
    /// <param name="options">The chat options.</param>
    /// <param name="tokenize">Turns a stop string into token ids (the model's tokenizer).</param>
    /// <param name="eosTokenIds">The model's end-of-sequence ids.</param>
    /// <returns>The generation options (MaxOutputTokens, or 256 by default).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ChatOptions.MaxOutputTokens"/> is below 1.</exception>
    public static GenerationOptions ToGenerationOptions(this ChatOptions? options, Func<string, IReadOnlyList<int>> tokenize, IEnumerable<int>? eosTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(tokenize);
        var stops = new List<IReadOnlyList<int>>();
        foreach (string stop in options?.StopSequences ?? (IList<string>)Array.Empty<string>())
        {
            if (!string.IsNullOrEmpty(stop))
            {
                stops.Add(tokenize(stop));
            }
        }

        int max = options?.MaxOutputTokens ?? 256;
        if (max < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ChatOptions.MaxOutputTokens), max, "'MaxOutputTokens' must be at least 1.");
        }

        return new GenerationOptions
        {
            MaxNewTokens = max,
            EosTokenIds = eosTokenIds is null ? Array.Empty<int>() : new List<int>(eosTokenIds),
            StopSequences = stops,
        };
    }

    private static float CheckPenalty(float? value, string name)
    {
        float v = value ?? 0f;
        if (!(v >= -2 && v <= 2))
        {
            throw new ArgumentOutOfRangeException(name, v, $"'{name}' must be in [-2, 2] (OpenAI range; 0 = off).");
        }

        return v;
    }

    private static double? ReadDouble(AdditionalPropertiesDictionary? extra, string key)
    {
        if (extra is null || !extra.TryGetValue(key, out object? raw) || raw is null)
        {
            return null;
        }

        return ToDouble(raw, key);
    }

    private static double ToDouble(object raw, string key)
    {
        switch (raw)
        {
            case JsonElement { ValueKind: JsonValueKind.Number } json:
                return json.GetDouble();
            case JsonElement { ValueKind: JsonValueKind.String } json when double.TryParse(json.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed):
                return parsed;
            case string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed):
                return parsed;
            case IConvertible convertible and not string:
                return convertible.ToDouble(CultureInfo.InvariantCulture);
            default:
                throw new ArgumentException($"Additional property '{key}' must be a number; got {raw.GetType().Name}.", key);
        }
    }

    private static Dictionary<int, float>? ReadLogitBias(AdditionalPropertiesDictionary? extra)
    {
        const string Key = "logit_bias";
        if (extra is null || !extra.TryGetValue(Key, out object? raw) || raw is null)
        {
            return null;
        }

        var result = new Dictionary<int, float>();
        void Add(object id, object value)
        {
            int token = id switch
            {
                int i => i,
                string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) => parsed,
                IConvertible c and not string => c.ToInt32(CultureInfo.InvariantCulture),
                _ => throw new ArgumentException($"'{Key}' keys must be token ids; got '{id}'.", Key),
            };
            double bias = ToDouble(value, Key);
            if (!(bias >= -100 && bias <= 100))
            {
                throw new ArgumentOutOfRangeException(Key, bias, $"'{Key}' values must be in [-100, 100] (OpenAI range); token {token}.");
            }

            result[token] = (float)bias;
        }

        switch (raw)
        {
            case JsonElement { ValueKind: JsonValueKind.Object } json:
                foreach (var property in json.EnumerateObject())
                {
                    Add(property.Name, property.Value);
                }

                break;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    Add(entry.Key, entry.Value ?? throw new ArgumentException($"'{Key}' has a null bias.", Key));
                }

                break;
            default:
                throw new ArgumentException($"'{Key}' must be a dictionary or JSON object of token id → bias; got {raw.GetType().Name}.", Key);
        }

        return result;
    }
}

/// <summary>Where <see cref="ChatOptionsMapping"/> puts temperature in the chain.</summary>
public enum SamplingOrder
{
    /// <summary>llama.cpp's order: truncation first, temperature last (default).</summary>
    LlamaCpp,

    /// <summary>Hugging Face's order: temperature before truncation.</summary>
    HuggingFace,
}
