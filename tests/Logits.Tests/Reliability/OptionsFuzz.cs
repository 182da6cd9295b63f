using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using Logits.Generation;
using Logits.Integration;
using Logits.Pipelines;
using Logits.Tensors;
using Microsoft.Extensions.AI;

namespace Logits.Tests.Reliability;

/// <summary>
/// Fuzzing of the layers around the core (issue 14): the presets and their option classes, the <see cref="ChatOptions"/>
/// mapping and the generator, with random and hostile values. Each case's outcome is checked against an independent
/// statement of the documented ranges: a valid setting must build its step (no silent drop), an invalid one must throw
/// an argument exception naming that setting, and nothing else may happen. Outcomes whose key starts with "DEFECT" are
/// failures. The reliability tool runs these with many cases; the test suite with a few thousand.
/// </summary>
public static class OptionsFuzz
{
    private static readonly double[] Hostile =
    {
        double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1e20, -2.5, -1, -0.5, 0, 1e-300, 0.05, 0.5, 0.95, 1, 1.5, 2, 3, 1e20,
    };

    private static readonly int[] HostileIntegers = { int.MinValue, -5, -2, -1, 0, 1, 2, 3, 40, int.MaxValue };

    private static double Number(Random rng) => rng.Next(3) == 0 ? (rng.NextDouble() * 4) - 1 : Hostile[rng.Next(Hostile.Length)];

    private static void Count(SortedDictionary<string, int> outcomes, string outcome) =>
        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

    private static bool InClosed(double v, double min, double max) => v >= min && v <= max;

    private static bool Finite(double v) => double.IsFinite(v);

    /// <summary>Random <see cref="LlamaCppSamplingOptions"/> and <see cref="HuggingFaceSamplingOptions"/> through the presets.</summary>
    public static SortedDictionary<string, int> Presets(int cases, int seed)
    {
        var rng = new Random(seed);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < cases; c++)
        {
            if (rng.Next(2) == 0)
            {
                LlamaCppCase(rng, outcomes);
            }
            else
            {
                HuggingFaceCase(rng, outcomes);
            }
        }

        return outcomes;
    }

    private static void LlamaCppCase(Random rng, SortedDictionary<string, int> outcomes)
    {
        var d = new LlamaCppSamplingOptions();
        double P(double fallback) => rng.Next(4) == 0 ? Number(rng) : fallback;
        int I(int fallback) => rng.Next(5) == 0 ? HostileIntegers[rng.Next(HostileIntegers.Length)] : fallback;
        var o = new LlamaCppSamplingOptions
        {
            Seed = (ulong)rng.NextInt64(),
            Temperature = (float)P(d.Temperature),
            DynamicTemperatureRange = (float)P(d.DynamicTemperatureRange),
            DynamicTemperatureExponent = (float)P(d.DynamicTemperatureExponent),
            TopK = I(d.TopK),
            TopP = P(d.TopP),
            MinP = P(d.MinP),
            TypicalP = P(d.TypicalP),
            TopNSigma = P(d.TopNSigma),
            RepetitionPenalty = P(d.RepetitionPenalty),
            FrequencyPenalty = P(d.FrequencyPenalty),
            PresencePenalty = P(d.PresencePenalty),
            PenaltyLastN = I(d.PenaltyLastN),
            DryMultiplier = P(d.DryMultiplier),
            DryBase = P(d.DryBase),
            DryAllowedLength = I(d.DryAllowedLength),
            DryPenaltyLastN = I(d.DryPenaltyLastN),
            XtcProbability = P(d.XtcProbability),
            XtcThreshold = P(d.XtcThreshold),
            Mirostat = rng.Next(6) == 0 ? HostileIntegers[rng.Next(HostileIntegers.Length)] : rng.Next(3) == 0 ? rng.Next(3) : 0,
            MirostatTau = P(d.MirostatTau),
            MirostatEta = P(d.MirostatEta),
        };

        // The documented ranges, stated again here (not read from the implementation).
        var invalid = new HashSet<string>(StringComparer.Ordinal);
        void Require(bool ok, string name)
        {
            if (!ok)
            {
                invalid.Add(name);
            }
        }

        Require(Finite(o.Temperature), "Temperature");
        Require(Finite(o.DynamicTemperatureRange) && o.DynamicTemperatureRange >= 0, "DynamicTemperatureRange");
        Require(Finite(o.DynamicTemperatureExponent) && o.DynamicTemperatureExponent > 0, "DynamicTemperatureExponent");
        Require(InClosed(o.TopP, 0, 1), "TopP");
        Require(InClosed(o.MinP, 0, 1), "MinP");
        Require(o.TypicalP > 0 && o.TypicalP <= 1, "TypicalP");
        Require(Finite(o.TopNSigma), "TopNSigma");
        Require(Finite(o.RepetitionPenalty) && o.RepetitionPenalty > 0, "RepetitionPenalty");
        Require(Finite(o.FrequencyPenalty), "FrequencyPenalty");
        Require(Finite(o.PresencePenalty), "PresencePenalty");
        Require(o.PenaltyLastN >= -1, "PenaltyLastN");
        Require(Finite(o.DryMultiplier) && o.DryMultiplier >= 0, "DryMultiplier");
        Require(Finite(o.DryBase) && o.DryBase >= 1, "DryBase");
        Require(o.DryAllowedLength >= 1, "DryAllowedLength");
        Require(o.DryPenaltyLastN >= -1, "DryPenaltyLastN");
        Require(InClosed(o.XtcProbability, 0, 1), "XtcProbability");
        Require(InClosed(o.XtcThreshold, 0, 1), "XtcThreshold");
        Require(o.Mirostat is >= 0 and <= 2, "Mirostat");
        Require(Finite(o.MirostatTau) && o.MirostatTau > 0, "MirostatTau");
        Require(Finite(o.MirostatEta) && o.MirostatEta >= 0, "MirostatEta");

        var expectedSteps = new List<string>();
        if (o.Mirostat == 0)
        {
            if (o.TopK > 0) { expectedSteps.Add("top-k"); }
            if (o.TopP < 1) { expectedSteps.Add("top-p"); }
            if (o.MinP > 0) { expectedSteps.Add("min-p"); }
            if (o.TypicalP < 1) { expectedSteps.Add("typical"); }
            if (o.TopNSigma > 0) { expectedSteps.Add("top-n-sigma"); }
            if (o.XtcProbability > 0) { expectedSteps.Add("xtc"); }
            if (o.DryMultiplier > 0 && o.DryPenaltyLastN != 0) { expectedSteps.Add("dry"); }
            if ((o.RepetitionPenalty != 1 || o.FrequencyPenalty != 0 || o.PresencePenalty != 0) && o.PenaltyLastN != 0) { expectedSteps.Add("penalties"); }
            expectedSteps.Add(o.DynamicTemperatureRange > 0 ? "dynamic-temperature" : "temperature");
        }

        Count(outcomes, "llama.cpp: " + Judge(() => SamplingPresets.LlamaCpp(o), invalid, expectedSteps));
    }

    private static void HuggingFaceCase(Random rng, SortedDictionary<string, int> outcomes)
    {
        var d = new HuggingFaceSamplingOptions();
        double P(double fallback) => rng.Next(4) == 0 ? Number(rng) : fallback;
        var o = new HuggingFaceSamplingOptions
        {
            DoSample = rng.Next(4) != 0,
            Seed = (ulong)rng.NextInt64(),
            Temperature = (float)P(d.Temperature),
            TopK = rng.Next(5) == 0 ? HostileIntegers[rng.Next(HostileIntegers.Length)] : d.TopK,
            TopP = P(d.TopP),
            MinP = P(d.MinP),
            TypicalP = P(d.TypicalP),
            EpsilonCutoff = P(d.EpsilonCutoff),
            EtaCutoff = P(d.EtaCutoff),
            RepetitionPenalty = P(d.RepetitionPenalty),
            NoRepeatNGramSize = rng.Next(5) == 0 ? HostileIntegers[rng.Next(HostileIntegers.Length)] : 0,
        };

        var invalid = new HashSet<string>(StringComparer.Ordinal);
        void Require(bool ok, string name)
        {
            if (!ok)
            {
                invalid.Add(name);
            }
        }

        Require(Finite(o.Temperature), "Temperature");
        Require(InClosed(o.TopP, 0, 1), "TopP");
        Require(InClosed(o.MinP, 0, 1), "MinP");
        Require(o.TypicalP > 0 && o.TypicalP <= 1, "TypicalP");
        Require(o.EpsilonCutoff >= 0 && o.EpsilonCutoff < 1, "EpsilonCutoff");
        Require(o.EtaCutoff >= 0 && o.EtaCutoff < 1, "EtaCutoff");
        Require(Finite(o.RepetitionPenalty) && o.RepetitionPenalty > 0, "RepetitionPenalty");
        Require(o.NoRepeatNGramSize >= 0, "NoRepeatNGramSize");

        var expectedSteps = new List<string>();
        if (o.RepetitionPenalty != 1) { expectedSteps.Add("repetition-penalty"); }
        if (o.NoRepeatNGramSize > 0) { expectedSteps.Add("no-repeat-ngram"); }
        if (o.Temperature != 1) { expectedSteps.Add("temperature"); }
        if (o.TopK > 0) { expectedSteps.Add("top-k"); }
        if (o.TopP < 1) { expectedSteps.Add("top-p"); }
        if (o.MinP > 0) { expectedSteps.Add("min-p"); }
        if (o.TypicalP < 1) { expectedSteps.Add("typical"); }
        if (o.EpsilonCutoff > 0) { expectedSteps.Add("epsilon"); }
        if (o.EtaCutoff > 0) { expectedSteps.Add("eta"); }

        Count(outcomes, "Hugging Face: " + Judge(() => SamplingPresets.HuggingFace(o), invalid, expectedSteps));
    }

    /// <summary>"built" or the argument exception, checked against the invalid settings and the expected steps.</summary>
    private static string Judge(Func<LogitPipeline> build, HashSet<string> invalid, List<string> expectedSteps)
    {
        try
        {
            var pipeline = build();
            if (invalid.Count > 0)
            {
                return $"DEFECT: built although {string.Join(", ", invalid.Order(StringComparer.Ordinal))} invalid";
            }

            var names = pipeline.Processors.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            var missing = expectedSteps.Where(s => !names.Contains(s)).ToList();
            return missing.Count == 0 ? "built" : $"DEFECT: silently dropped {string.Join(", ", missing)}";
        }
        catch (ArgumentException error) when (error.ParamName is { } name && invalid.Contains(name))
        {
            return $"{error.GetType().Name} naming the invalid setting";
        }
        catch (Exception error)
        {
            return $"DEFECT: {error.GetType().Name} ({(error as ArgumentException)?.ParamName ?? error.Message})";
        }
    }

    private static readonly string[] DoubleKeys =
    {
        "temperature", "top_p", "frequency_penalty", "presence_penalty", "repeat_penalty", "repetition_penalty", "min_p", "typical_p",
        "top_n_sigma", "xtc_probability", "xtc_threshold", "dry_multiplier", "dry_base", "dynatemp_range", "dynatemp_exponent",
        "mirostat_tau", "mirostat_eta",
    };

    private static readonly string[] IntegerKeys = { "top_k", "repeat_last_n", "penalty_last_n", "dry_allowed_length", "dry_penalty_last_n", "mirostat", "seed" };

    /// <summary>A value of a random kind for a numeric key; <paramref name="number"/> is its numeric value or null when it is not a number.</summary>
    private static object RandomValue(Random rng, out double? number)
    {
        double v = rng.Next(3) == 0 ? Math.Round(Number(rng)) : Number(rng);
        number = v;
        switch (rng.Next(12))
        {
            case 0: return (float)v is var f && double.IsFinite(v) == float.IsFinite(f) ? SetNumber(f, out number) : v;
            case 1: return v.ToString("R", CultureInfo.InvariantCulture);
            case 2 when double.IsFinite(v) && Math.Abs(v) < 1e15:
                number = (double)(decimal)v; // decimal rounds tiny values to 0
                return (decimal)v;
            case 3 when Math.Abs(v) < 2e9 && Math.Floor(v) == v: return (int)v;
            case 4: number = 1L << 40; return 1L << 40;
            case 5: number = null; return true;
            case 6: number = null; return DateTime.UnixEpoch;
            case 7: number = null; return "many";
            case 8 when double.IsFinite(v): return JsonDocument.Parse(v.ToString("R", CultureInfo.InvariantCulture)).RootElement;
            case 9: number = null; return 'x';
            default: return v;
        }

        static object SetNumber(float f, out double? number)
        {
            number = f;
            return f;
        }
    }

    /// <summary>Random <see cref="ChatOptions"/> (direct properties and additional properties of every kind) through the mapping.</summary>
    public static SortedDictionary<string, int> ChatOptionsMapping(int cases, int seed)
    {
        var rng = new Random(seed);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < cases; c++)
        {
            var options = new ChatOptions { AdditionalProperties = new AdditionalPropertiesDictionary() };
            var values = new Dictionary<string, double?>(StringComparer.Ordinal); // key → numeric value (null: not a number)
            var invalid = new HashSet<string>(StringComparer.Ordinal);
            foreach (string key in DoubleKeys.Concat(IntegerKeys))
            {
                if (rng.Next(6) == 0)
                {
                    options.AdditionalProperties[key] = RandomValue(rng, out double? number);
                    values[key] = number;
                }
            }

            if (rng.Next(4) == 0) { options.TopP = (float)Number(rng); }
            if (rng.Next(4) == 0) { options.Temperature = (float)Number(rng); }
            if (rng.Next(5) == 0) { options.TopK = HostileIntegers[rng.Next(HostileIntegers.Length)]; }
            if (rng.Next(5) == 0) { options.FrequencyPenalty = (float)Number(rng); }
            if (rng.Next(8) == 0) { options.Seed = rng.NextInt64(); }
            if (rng.Next(6) == 0) { options.AdditionalProperties["logit_bias"] = RandomBias(rng, out bool biasValid); if (!biasValid) { invalid.Add("logit_bias"); } }
            bool strict = rng.Next(4) == 0;
            if (rng.Next(5) == 0) { options.AdditionalProperties["grammar"] = "root ::= \"a\""; if (strict) { invalid.Add("grammar"); } }

            // The documented ranges, stated again here.
            bool Valid(string key, double v) => key switch
            {
                "temperature" or "top_n_sigma" => double.IsFinite(v),
                "top_p" or "min_p" or "xtc_probability" or "xtc_threshold" => InClosed(v, 0, 1),
                "frequency_penalty" or "presence_penalty" => InClosed(v, -2, 2),
                "repeat_penalty" or "repetition_penalty" => double.IsFinite(v) && v > 0,
                "typical_p" => v > 0 && v <= 1,
                "dry_multiplier" or "dynatemp_range" or "mirostat_eta" => double.IsFinite(v) && v >= 0,
                "dry_base" => double.IsFinite(v) && v >= 1,
                "dynatemp_exponent" or "mirostat_tau" => double.IsFinite(v) && v > 0,
                "top_k" => true,
                "seed" => v >= long.MinValue && v <= long.MaxValue,
                "repeat_last_n" or "penalty_last_n" or "dry_penalty_last_n" => v >= -1,
                "dry_allowed_length" => v >= 1,
                "mirostat" => v is >= 0 and <= 2,
                _ => true,
            };
            foreach (var (key, number) in values)
            {
                bool integral = !IntegerKeys.Contains(key) || (number is { } n && Math.Floor(n) == n && (key == "seed" ? Math.Abs(n) < 9.2e18 : Math.Abs(n) <= int.MaxValue));
                if (number is not { } value || !integral || !Valid(key, value))
                {
                    invalid.Add(key);
                }
            }

            void Direct(string property, string key, double? direct, Func<double, bool> valid)
            {
                if (direct is not { } v)
                {
                    return;
                }

                if (!valid(v))
                {
                    invalid.Add(property);
                }

                if (values.TryGetValue(key, out double? other) && other is { } o && !invalid.Contains(key) && (float)o != (float)v)
                {
                    invalid.Add(key); // a key that disagrees with the direct property
                }
            }

            Direct(nameof(ChatOptions.TopP), "top_p", options.TopP, v => InClosed(v, 0, 1));
            Direct(nameof(ChatOptions.Temperature), "temperature", options.Temperature, double.IsFinite);
            Direct(nameof(ChatOptions.FrequencyPenalty), "frequency_penalty", options.FrequencyPenalty, v => InClosed(v, -2, 2));
            Direct(nameof(ChatOptions.TopK), "top_k", options.TopK, _ => true);
            Direct(nameof(ChatOptions.Seed), "seed", options.Seed, _ => true);
            foreach (var (a, b) in new[] { ("repeat_penalty", "repetition_penalty"), ("repeat_last_n", "penalty_last_n") })
            {
                // Two spellings with different values: either key may be named (as may an invalid value under either).
                if (values.TryGetValue(a, out var x) && values.TryGetValue(b, out var y) && x is not null && y is not null && !x.Value.Equals(y.Value))
                {
                    invalid.Add(a);
                    invalid.Add(b);
                }
            }

            if (invalid.Contains("seed") || options.AdditionalProperties.ContainsKey("seed") && options.Seed is not null)
            {
                invalid.Add("seed");
            }

            var expectedSteps = new List<string>();
            double? Value(string key) => invalid.Contains(key) ? null : values.GetValueOrDefault(key);
            if ((Value("mirostat") ?? 0) == 0)
            {
                if ((Value("min_p") ?? 0) > 0) { expectedSteps.Add("min-p"); }
                if ((Value("typical_p") ?? 1) < 1) { expectedSteps.Add("typical"); }
                if ((Value("top_n_sigma") ?? -1) > 0) { expectedSteps.Add("top-n-sigma"); }
                if ((Value("xtc_probability") ?? 0) > 0) { expectedSteps.Add("xtc"); }
                if (((double?)options.TopP ?? Value("top_p") ?? 1) < 1) { expectedSteps.Add("top-p"); }
            }

            string outcome;
            try
            {
                var pipeline = options.ToPipeline(SamplingOrder.LlamaCpp, strict ? UnknownKeyHandling.Reject : UnknownKeyHandling.Ignore);
                if (invalid.Count > 0)
                {
                    outcome = $"DEFECT: built although {string.Join(", ", invalid.Order(StringComparer.Ordinal))} invalid";
                }
                else
                {
                    var names = pipeline.Processors.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                    var missing = expectedSteps.Where(s => !names.Contains(s)).ToList();
                    outcome = missing.Count == 0 ? "built" : $"DEFECT: silently dropped {string.Join(", ", missing)}";
                }
            }
            catch (ArgumentException error) when (error.ParamName is { } name && (invalid.Contains(name) || (name is "repeat_penalty" or "repetition_penalty" or "repeat_last_n" or "penalty_last_n" && invalid.Contains(name))))
            {
                outcome = $"{error.GetType().Name} naming the setting";
            }
            catch (Exception error)
            {
                string setting = (error as ArgumentException)?.ParamName ?? "";
                object? raw = options.AdditionalProperties.TryGetValue(setting, out object? v) ? v : null;
                outcome = $"DEFECT: {error.GetType().Name} ({setting} = {raw} [{raw?.GetType().Name}]: {error.Message})";
            }

            Count(outcomes, outcome);
        }

        return outcomes;
    }

    private static object RandomBias(Random rng, out bool valid)
    {
        valid = true;
        switch (rng.Next(6))
        {
            case 0: return new Dictionary<int, double> { [rng.Next(50)] = (rng.NextDouble() * 200) - 100 };
            case 1: valid = false; return new Dictionary<long, double> { [1L << 40] = 1 };
            case 2: valid = false; return new Dictionary<double, double> { [1.7] = 1 };
            case 3: valid = false; return new Dictionary<int, double> { [3] = 150 };
            case 4: valid = false; return new Dictionary<string, object> { ["7"] = true };
            default: return JsonDocument.Parse("{\"5\": -2.5}").RootElement;
        }
    }

    /// <summary>A uniform random model whose batch may disagree with its vocabulary size.</summary>
    private sealed class UniformModel(int vocab, int batchVocab) : ILanguageModel
    {
        public int VocabSize => vocab;

        public LogitBatch CreateLogitBatch(int rows) => new CpuLogitBatch(rows, batchVocab);

        public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination) =>
            destination.CopyFrom(new float[destination.Rows * destination.Vocab]);
    }

    /// <summary>Random budgets, EOS ids, stop sequences and (sometimes) a model whose batch disagrees with its vocabulary.</summary>
    public static SortedDictionary<string, int> Generator(int cases, int seed)
    {
        var rng = new Random(seed);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int[] budgets = { 1, 2, 16, 1000, 250_000_000, int.MaxValue - 5, int.MaxValue };
        for (int c = 0; c < cases; c++)
        {
            int vocab = 2 + rng.Next(20);
            bool mismatch = rng.Next(10) == 0;
            var model = new UniformModel(vocab, mismatch ? vocab + 1 + rng.Next(5) : vocab);
            int[] eos = Enumerable.Range(0, rng.Next(3)).Select(_ => rng.Next(8) == 0 ? (rng.Next(2) == 0 ? -1 : vocab + rng.Next(1000)) : rng.Next(vocab)).ToArray();
            int[][] stops = Enumerable.Range(0, rng.Next(3)).Select(_ => Enumerable.Range(0, 1 + rng.Next(3)).Select(_ => rng.Next(10) == 0 ? vocab + 3 : rng.Next(vocab)).ToArray()).ToArray();
            int budget = budgets[rng.Next(budgets.Length)];
            bool eosInVocab = eos.Any(id => id >= 0 && id < vocab);
            if (!eosInVocab)
            {
                budget = Math.Min(budget, 64); // without a reachable EOS the run lasts its whole budget
            }

            bool negative = eos.Any(id => id < 0);
            bool outside = eos.Any(id => id >= vocab) || stops.Any(s => s.Any(id => id >= vocab));
            string outcome;
            try
            {
                var options = new GenerationOptions { MaxNewTokens = budget, EosTokenIds = eos, StopSequences = stops };
                var generator = new TokenGenerator(model, LogitPipeline.CreateBuilder().Temperature(1f).Multinomial((ulong)c), options);
                var result = generator.Generate(new[] { rng.Next(vocab) });
                outcome = negative || outside ? "DEFECT: accepted an id outside the vocabulary"
                    : mismatch ? "DEFECT: ran with a batch wider than the vocabulary"
                    : result.Tokens.All(t => t >= 0 && t < vocab) && result.Tokens.Count <= budget ? $"generated ({result.StopReason})"
                    : "DEFECT: token outside the vocabulary or over budget";
            }
            catch (ArgumentException error) when ((negative && error.ParamName == "EosTokenIds") || (outside && error.ParamName == "options"))
            {
                outcome = "ArgumentException naming the option";
            }
            catch (InvalidOperationException) when (mismatch && !negative && !outside)
            {
                outcome = "InvalidOperationException for the model's batch";
            }
            catch (Exception error)
            {
                outcome = $"DEFECT: {error.GetType().Name} ({(error as ArgumentException)?.ParamName ?? error.Message})";
            }

            Count(outcomes, outcome);
        }

        return outcomes;
    }
}
