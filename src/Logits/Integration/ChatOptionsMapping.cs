using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Logits.Generation;
using Logits.Pipelines;
using Logits.Processing.Constraints;
using Logits.Processing.Penalties;
using Logits.Processing.Truncation;
using Logits.Selection;
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
/// <para><b>Direct properties.</b> <see cref="ChatOptions.Temperature"/> → temperature (finite);
/// <see cref="ChatOptions.TopP"/> → top-p (in [0, 1]; 1 = off); <see cref="ChatOptions.TopK"/> → top-k (≤ 0 means
/// "not added", as llama.cpp and vLLM treat 0/−1); <see cref="ChatOptions.FrequencyPenalty"/> and
/// <see cref="ChatOptions.PresencePenalty"/> → the additive OpenAI penalties over the output (range [−2, 2]
/// enforced here, as OpenAI and vLLM do; 0 = off; never mapped to the multiplicative repetition penalty,
/// the ONNX Runtime GenAI mistake); <see cref="ChatOptions.Seed"/> → the selector seed
/// (without a seed, a random one is drawn, so runs differ); <see cref="ChatOptions.StopSequences"/> and
/// <see cref="ChatOptions.MaxOutputTokens"/> → <see cref="GenerationOptions"/>.</para>
/// <para><b>Additional properties</b>, by llama.cpp server's names, with Hugging Face's spelling accepted where it
/// differs (setting both spellings to different values is an error): <c>temperature</c>, <c>top_k</c>,
/// <c>top_p</c>, <c>seed</c>, <c>frequency_penalty</c>, <c>presence_penalty</c> (used when the direct property is
/// not set; a different value in both is an error); <c>repeat_penalty</c> / <c>repetition_penalty</c>
/// (multiplicative, &gt; 0, 1 = off); <c>repeat_last_n</c> / <c>penalty_last_n</c> (the window of all three
/// penalties: −1 = whole history (default), 0 = penalties off, N ≥ 1 = last N tokens); <c>min_p</c> ([0, 1], 0 = off);
/// <c>typical_p</c> ((0, 1], 1 = off); <c>top_n_sigma</c> (≤ 0 = off); <c>xtc_probability</c> ([0, 1], 0 = off);
/// <c>xtc_threshold</c> ([0, 1]); <c>dry_multiplier</c> (≥ 0, 0 = off); <c>dry_base</c> (≥ 1);
/// <c>dry_allowed_length</c> (integer ≥ 1); <c>dry_penalty_last_n</c> (integer; −1 = whole history, 0 = DRY
/// off); <c>dynatemp_range</c> (≥ 0, 0 = off) and <c>dynatemp_exponent</c> (&gt; 0); <c>mirostat</c> (0, 1 or 2),
/// <c>mirostat_tau</c> (&gt; 0), <c>mirostat_eta</c> (≥ 0); <c>logit_bias</c> (token id → bias in [−100, 100]; a
/// dictionary keyed by integer ids or by the id as a string, or a JSON object).</para>
/// <para><b>Values.</b> Numbers may be any .NET numeric type, a numeric string or a JSON number; booleans, dates
/// and other kinds throw <see cref="ArgumentException"/> naming the key. Integer settings and token ids must be
/// integral and within <see cref="int"/>'s range. NaN or an out-of-range value throws
/// <see cref="ArgumentOutOfRangeException"/> naming the key (or the <see cref="ChatOptions"/> property): only the
/// documented "off" values leave a step out. Unknown keys are ignored by default, since other layers share the
/// bag; <see cref="UnknownKeyHandling.Reject"/> makes them an error.</para>
/// <para><b>Order.</b> llama.cpp's chain (temperature last): logit bias → repetition → frequency/presence →
/// DRY → top-nσ → top-k → typical → top-p → min-p → XTC → temperature (or dynamic temperature) → multinomial.
/// With <see cref="SamplingOrder.HuggingFace"/> temperature moves to the front of the truncation steps. With
/// Mirostat on: logit bias → temperature → Mirostat, as llama.cpp does.</para>
/// </remarks>
public static class ChatOptionsMapping
{
    /// <summary>Builds the sampling pipeline that <paramref name="options"/> describes, ignoring unknown additional properties.</summary>
    /// <param name="options">The chat options; <see langword="null"/> gives plain multinomial sampling at T = 1.</param>
    /// <param name="order">Where temperature goes (default: last, as llama.cpp).</param>
    /// <returns>The pipeline.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (NaN included); the parameter name is the option's name or key.</exception>
    /// <exception cref="ArgumentException">An additional property has a value of the wrong kind, or two spellings of one setting disagree.</exception>
    public static LogitPipeline ToPipeline(this ChatOptions? options, SamplingOrder order = SamplingOrder.LlamaCpp) =>
        ToPipeline(options, order, UnknownKeyHandling.Ignore);

    /// <summary>Builds the sampling pipeline that <paramref name="options"/> describes.</summary>
    /// <param name="options">The chat options; <see langword="null"/> gives plain multinomial sampling at T = 1.</param>
    /// <param name="order">Where temperature goes.</param>
    /// <param name="unknownKeys">Whether an additional property this mapping does not know is ignored or an error.</param>
    /// <returns>The pipeline.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (NaN included); the parameter name is the option's name or key.</exception>
    /// <exception cref="ArgumentException">An additional property has a value of the wrong kind, two spellings of one
    /// setting disagree, or (with <see cref="UnknownKeyHandling.Reject"/>) a key is unknown.</exception>
    public static LogitPipeline ToPipeline(this ChatOptions? options, SamplingOrder order, UnknownKeyHandling unknownKeys)
    {
        Require.Defined(order, nameof(order));
        Require.Defined(unknownKeys, nameof(unknownKeys));

        var extra = new ExtraProperties(options?.AdditionalProperties);
        if (unknownKeys == UnknownKeyHandling.Reject)
        {
            extra.RejectUnknown();
        }

        // Every value is read and range-checked before any step is chosen: NaN never passes a "neutral value" test.
        var bias = ReadLogitBias(extra);
        double repetition = extra.Double(RepetitionKeys) ?? 1;
        OptionChecks.Above(repetition, 0, extra.NameOf(RepetitionKeys), "1 = off");
        int window = extra.Integer(WindowKeys) ?? -1;
        OptionChecks.AtLeast(window, -1, extra.NameOf(WindowKeys), "-1 = whole history, 0 = penalties off");
        float frequency = Penalty(Direct(options?.FrequencyPenalty, nameof(ChatOptions.FrequencyPenalty), extra, "frequency_penalty"), extra.Has("frequency_penalty") && options?.FrequencyPenalty is null ? "frequency_penalty" : nameof(ChatOptions.FrequencyPenalty));
        float presence = Penalty(Direct(options?.PresencePenalty, nameof(ChatOptions.PresencePenalty), extra, "presence_penalty"), extra.Has("presence_penalty") && options?.PresencePenalty is null ? "presence_penalty" : nameof(ChatOptions.PresencePenalty));
        double dryMultiplier = extra.Double("dry_multiplier") ?? 0;
        OptionChecks.AtLeast(dryMultiplier, 0, "dry_multiplier", "0 = off");
        double dryBase = extra.Double("dry_base") ?? 1.75;
        OptionChecks.AtLeast(dryBase, 1, "dry_base", "default 1.75");
        int dryAllowedLength = extra.Integer("dry_allowed_length") ?? 2;
        OptionChecks.AtLeast(dryAllowedLength, 1, "dry_allowed_length", "default 2");
        int dryWindow = extra.Integer("dry_penalty_last_n") ?? -1;
        OptionChecks.AtLeast(dryWindow, -1, "dry_penalty_last_n", "-1 = whole history, 0 = DRY off");

        string temperatureName = options?.Temperature is null && extra.Has("temperature") ? "temperature" : nameof(ChatOptions.Temperature);
        double? temperature = Direct(options?.Temperature, nameof(ChatOptions.Temperature), extra, "temperature");
        if (temperature is { } t)
        {
            OptionChecks.Finite(t, temperatureName);
        }

        double dynamicRange = extra.Double("dynatemp_range") ?? 0;
        OptionChecks.AtLeast(dynamicRange, 0, "dynatemp_range", "0 = plain temperature");
        double dynamicExponent = extra.Double("dynatemp_exponent") ?? 1;
        OptionChecks.Above(dynamicExponent, 0, "dynatemp_exponent", "default 1");
        double nSigma = extra.Double("top_n_sigma") ?? -1;
        OptionChecks.Finite(nSigma, "top_n_sigma");
        int topK = DirectInteger(options?.TopK, nameof(ChatOptions.TopK), extra, "top_k") ?? 0;
        double typical = extra.Double("typical_p") ?? 1;
        OptionChecks.LeftOpen(typical, 0, 1, "typical_p", "1 = off");
        string topPName = options?.TopP is null && extra.Has("top_p") ? "top_p" : nameof(ChatOptions.TopP);
        double topP = Direct(options?.TopP, nameof(ChatOptions.TopP), extra, "top_p") ?? 1;
        OptionChecks.Closed(topP, 0, 1, topPName, "1 = off");
        double minP = extra.Double("min_p") ?? 0;
        OptionChecks.Closed(minP, 0, 1, "min_p", "0 = off");
        double xtcProbability = extra.Double("xtc_probability") ?? 0;
        OptionChecks.Closed(xtcProbability, 0, 1, "xtc_probability", "0 = off");
        double xtcThreshold = extra.Double("xtc_threshold") ?? 0.1;
        OptionChecks.Closed(xtcThreshold, 0, 1, "xtc_threshold", "default 0.1");
        int mirostat = extra.Integer("mirostat") ?? 0;
        if (mirostat is < 0 or > 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange("mirostat", mirostat, "must be 0 (off), 1 or 2");
        }

        double mirostatTau = extra.Double("mirostat_tau") ?? 5;
        OptionChecks.Above(mirostatTau, 0, "mirostat_tau", "default 5");
        double mirostatEta = extra.Double("mirostat_eta") ?? 0.1;
        OptionChecks.AtLeast(mirostatEta, 0, "mirostat_eta", "default 0.1");
        long? seedValue = options?.Seed ?? extra.Long("seed");
        if (options?.Seed is { } direct && extra.Long("seed") is { } extraSeed && extraSeed != direct)
        {
            ThrowHelper.ThrowArgument("seed", $"is {extraSeed} but ChatOptions.Seed is {direct}; set one of them.");
        }

        ulong seed = seedValue is { } s ? unchecked((ulong)s) : unchecked((ulong)Random.Shared.NextInt64());

        var builder = LogitPipeline.CreateBuilder();
        if (bias is not null && bias.Count > 0)
        {
            builder.Add(new LogitBiasProcessor(bias));
        }

        if (mirostat != 0)
        {
            builder.Temperature(temperature ?? 1);
            return mirostat == 1
                ? builder.Select(new MirostatV1Selector(seed, mirostatTau, mirostatEta))
                : builder.Select(new MirostatV2Selector(seed, mirostatTau, mirostatEta));
        }

        if (window != 0)
        {
            if (repetition != 1)
            {
                builder.Add(new RepetitionPenaltyProcessor(repetition, window: window));
            }

            if (frequency != 0 || presence != 0)
            {
                builder.Add(new FrequencyPresencePenaltyProcessor(frequency, presence, window: window));
            }
        }

        if (dryMultiplier != 0 && dryWindow != 0)
        {
            builder.Add(new DryProcessor(dryMultiplier, dryBase, dryAllowedLength, dryWindow));
        }

        if (order == SamplingOrder.HuggingFace && temperature is { } early)
        {
            AddTemperature(builder, early, dynamicRange, dynamicExponent);
        }

        if (nSigma > 0)
        {
            builder.Add(new TopNSigmaProcessor(nSigma));
        }

        if (topK > 0)
        {
            builder.TopK(topK);
        }

        if (typical < 1)
        {
            builder.Add(new TypicalProcessor(typical));
        }

        if (topP < 1)
        {
            builder.TopP(topP);
        }

        if (minP > 0)
        {
            builder.MinP(minP);
        }

        if (xtcProbability > 0)
        {
            // A stream separate from the selector's: seed + a fixed odd offset.
            builder.Add(new XtcProcessor(xtcProbability, xtcThreshold, unchecked(seed + 0x9E3779B97F4A7C15UL)));
        }

        if (order == SamplingOrder.LlamaCpp && temperature is { } late)
        {
            AddTemperature(builder, late, dynamicRange, dynamicExponent);
        }

        return builder.Multinomial(seed);
    }

    private static readonly string[] RepetitionKeys = { "repeat_penalty", "repetition_penalty" };
    private static readonly string[] WindowKeys = { "repeat_last_n", "penalty_last_n" };

    /// <summary>Every key <see cref="ToPipeline(ChatOptions?, SamplingOrder, UnknownKeyHandling)"/> reads.</summary>
    private static readonly HashSet<string> KnownKeys = new(StringComparer.Ordinal)
    {
        "temperature", "top_k", "top_p", "seed", "frequency_penalty", "presence_penalty",
        "repeat_penalty", "repetition_penalty", "repeat_last_n", "penalty_last_n",
        "min_p", "typical_p", "top_n_sigma", "xtc_probability", "xtc_threshold",
        "dry_multiplier", "dry_base", "dry_allowed_length", "dry_penalty_last_n",
        "dynatemp_range", "dynatemp_exponent", "mirostat", "mirostat_tau", "mirostat_eta", "logit_bias",
    };

    private static void AddTemperature(LogitPipelineBuilder builder, double temperature, double dynamicRange, double dynamicExponent)
    {
        if (dynamicRange > 0)
        {
            builder.DynamicTemperature(temperature, dynamicRange, dynamicExponent);
        }
        else
        {
            builder.Temperature(temperature);
        }
    }

    /// <summary>The direct property, or the additional property of the same meaning; both set and different is an error.</summary>
    private static double? Direct(float? property, string propertyName, ExtraProperties extra, string key)
    {
        double? fromBag = extra.Double(key);
        if (property is { } value)
        {
            if (fromBag is { } other && !((float)other).Equals(value))
            {
                ThrowHelper.ThrowArgument(key, $"is {other} but ChatOptions.{propertyName} is {value}; set one of them.");
            }

            return value;
        }

        return fromBag;
    }

    private static int? DirectInteger(int? property, string propertyName, ExtraProperties extra, string key)
    {
        int? fromBag = extra.Integer(key);
        if (property is { } value)
        {
            if (fromBag is { } other && other != value)
            {
                ThrowHelper.ThrowArgument(key, $"is {other} but ChatOptions.{propertyName} is {value}; set one of them.");
            }

            return value;
        }

        return fromBag;
    }

    private static float Penalty(double? value, string name)
    {
        double v = value ?? 0;
        if (!(v >= -2 && v <= 2))
        {
            ThrowHelper.ThrowArgumentOutOfRange(name, v, "must be in [-2, 2] (OpenAI range; 0 = off)");
        }

        return (float)v;
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

    private static Dictionary<int, double>? ReadLogitBias(ExtraProperties extra)
    {
        const string Key = "logit_bias";
        if (!extra.TryGet(Key, out object? raw))
        {
            return null;
        }

        var result = new Dictionary<int, double>();
        void Add(object? id, object? value)
        {
            int token = TokenId(id);
            if (value is null)
            {
                ThrowHelper.ThrowArgument(Key, $"has a null bias for token {token}.");
            }

            double bias = ExtraProperties.ToDouble(value, Key);
            if (!(bias >= -100 && bias <= 100))
            {
                ThrowHelper.ThrowArgumentOutOfRange(Key, bias, $"values must be in [-100, 100] (OpenAI range); token {token}");
            }

            result[token] = bias;
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
                    Add(entry.Key, entry.Value);
                }

                break;
            default:
                ThrowHelper.ThrowArgument(Key, $"must be a dictionary or JSON object of token id → bias; got {raw.GetType().Name}.");
                break;
        }

        return result;

        static int TokenId(object? id)
        {
            long token = id switch
            {
                string text when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) => parsed,
                string text => throw new ArgumentException($"'{Key}' keys must be token ids; got '{text}'.", Key),
                null => throw new ArgumentException($"'{Key}' has a null key.", Key),
                _ => ExtraProperties.ToInteger(id, Key, "keys"),
            };
            if (token < 0 || token > int.MaxValue)
            {
                ThrowHelper.ThrowArgumentOutOfRange(Key, token, "keys must be token ids in [0, 2147483647]");
            }

            return (int)token;
        }
    }

    /// <summary>The additional-property bag: typed reads that name the key in every error.</summary>
    private readonly struct ExtraProperties
    {
        private readonly AdditionalPropertiesDictionary? _bag;

        public ExtraProperties(AdditionalPropertiesDictionary? bag) => _bag = bag;

        public bool Has(string key) => _bag is not null && _bag.TryGetValue(key, out object? raw) && raw is not null;

        public bool TryGet(string key, [NotNullWhen(true)] out object? raw)
        {
            raw = null;
            return _bag is not null && _bag.TryGetValue(key, out raw) && raw is not null;
        }

        public void RejectUnknown()
        {
            if (_bag is null)
            {
                return;
            }

            foreach (var pair in _bag)
            {
                if (!KnownKeys.Contains(pair.Key))
                {
                    ThrowHelper.ThrowArgument(pair.Key, "is not a sampling setting this mapping knows (strict mode rejects unknown keys).");
                }
            }
        }

        /// <summary>The key of <paramref name="keys"/> the caller set (the first when none is set).</summary>
        public string NameOf(string[] keys)
        {
            foreach (string key in keys)
            {
                if (Has(key))
                {
                    return key;
                }
            }

            return keys[0];
        }

        public double? Double(string key) => TryGet(key, out object? raw) ? ToDouble(raw, key) : null;

        /// <summary>One setting under two spellings; different values under both is an error.</summary>
        public double? Double(string[] keys)
        {
            double? found = null;
            string? foundKey = null;
            foreach (string key in keys)
            {
                if (Double(key) is { } value)
                {
                    if (found is { } earlier && !earlier.Equals(value))
                    {
                        ThrowHelper.ThrowArgument(key, $"is {value} but '{foundKey}' is {earlier}; they are two spellings of one setting.");
                    }

                    found = value;
                    foundKey = key;
                }
            }

            return found;
        }

        public int? Integer(string key)
        {
            if (!TryGet(key, out object? raw))
            {
                return null;
            }

            long value = ToInteger(raw, key, "value");
            if (value is < int.MinValue or > int.MaxValue)
            {
                ThrowHelper.ThrowArgumentOutOfRange(key, value, "must be an integer within Int32's range");
            }

            return (int)value;
        }

        public int? Integer(string[] keys)
        {
            int? found = null;
            string? foundKey = null;
            foreach (string key in keys)
            {
                if (Integer(key) is { } value)
                {
                    if (found is { } earlier && earlier != value)
                    {
                        ThrowHelper.ThrowArgument(key, $"is {value} but '{foundKey}' is {earlier}; they are two spellings of one setting.");
                    }

                    found = value;
                    foundKey = key;
                }
            }

            return found;
        }

        public long? Long(string key) => TryGet(key, out object? raw) ? ToInteger(raw, key, "value") : null;

        /// <summary>A number: any .NET numeric type, a numeric string or a JSON number (never a bool, date or char).</summary>
        public static double ToDouble(object raw, string key)
        {
            switch (raw)
            {
                case double d:
                    return d;
                case float f:
                    return f;
                case decimal m:
                    return (double)m;
                case sbyte or byte or short or ushort or int or uint or long or ulong:
                    return Convert.ToDouble(raw, CultureInfo.InvariantCulture);
                case JsonElement { ValueKind: JsonValueKind.Number } json:
                    return json.GetDouble();
                case JsonElement { ValueKind: JsonValueKind.String } json when TryParse(json.GetString(), out double parsed):
                    return parsed;
                case string text when TryParse(text, out double parsed):
                    return parsed;
                default:
                    ThrowHelper.ThrowArgument(key, $"must be a number; got {Describe(raw)}.");
                    return 0;
            }
        }

        /// <summary>An integral number within <see cref="long"/>'s range (2.9, NaN or 1e20 throw naming the key).</summary>
        public static long ToInteger(object raw, string key, string what)
        {
            switch (raw)
            {
                case sbyte or byte or short or ushort or int or uint or long:
                    return Convert.ToInt64(raw, CultureInfo.InvariantCulture);
                case ulong u when u <= long.MaxValue:
                    return (long)u;
                case JsonElement { ValueKind: JsonValueKind.Number } json when json.TryGetInt64(out long exact):
                    return exact;
                case string text when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed):
                    return parsed;
                case JsonElement { ValueKind: JsonValueKind.String } json when long.TryParse(json.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed):
                    return parsed;
            }

            double value = ToDouble(raw, key);
            if (!(Math.Abs(value) <= 9.2e18) || Math.Floor(value) != value)
            {
                ThrowHelper.ThrowArgumentOutOfRange(key, value, $"{what} must be an integer");
            }

            return (long)value;
        }

        private static bool TryParse(string? text, out double value) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

        private static string Describe(object raw) => raw switch
        {
            bool b => $"the boolean {(b ? "true" : "false")}",
            string text => $"the string '{text}'",
            JsonElement json => $"a JSON {json.ValueKind}",
            _ => raw.GetType().Name,
        };
    }
}

/// <summary>What <see cref="ChatOptionsMapping"/> does with an additional property it does not know.</summary>
public enum UnknownKeyHandling
{
    /// <summary>Ignore it (default): other layers share the additional-property bag.</summary>
    Ignore,

    /// <summary>Throw <see cref="ArgumentException"/> naming the key (strict mode).</summary>
    Reject,
}

/// <summary>Where <see cref="ChatOptionsMapping"/> puts temperature in the chain.</summary>
public enum SamplingOrder
{
    /// <summary>llama.cpp's order: truncation first, temperature last (default).</summary>
    LlamaCpp,

    /// <summary>Hugging Face's order: temperature before truncation.</summary>
    HuggingFace,
}
