using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Logits.Samples.OnnxGenerate;

/// <summary>The command line of the sample.</summary>
internal sealed class Options
{
    public const string Usage = """
        Generates text from one prompt through ONNX Runtime GenAI with Logits choosing the tokens: greedy, sampled
        (temperature, top-k, top-p) and constrained to letters and spaces, and prints Logits' per-token step time next
        to the runtime's own search (GenerateNextToken) with the same settings.

        Usage: dotnet run --project samples/OnnxGenerate -c Release [-- options]

          --onnx-model DIR   an ONNX Runtime GenAI model folder you have (genai_config.json, the .onnx graph, tokenizer
                             files); without it a synthetic model is written to --out
          --prompt TEXT      the prompt (default "The quick brown fox")
          --tokens N         new tokens per run, at least 1 (default 48; 16 with --quick)
          --run NAME         only one run: greedy | sampled | constrained (default: all three)
          --temperature T    temperature of the sampled run, above 0 (default 0.75)
          --top-k K          top-k of the sampled run, at least 1 (default 40)
          --top-p P          top-p of the sampled run, in (0, 1] (default 0.9)
          --seed N           seed of every random draw (default 42)
          --vocab N          vocabulary of the synthetic model, 260..262144 (default 32000; 512 with --quick)
          --out DIR          output folder (default out/OnnxGenerate); a results.md is written there
          --quick            a few seconds: 16 tokens per run on a 512-token synthetic model
          --help             this text
        """;

    public string? ModelFolder { get; private set; }

    public string Prompt { get; private set; } = "The quick brown fox";

    public int Tokens { get; private set; } = 48;

    public string? Run { get; private set; }

    public float Temperature { get; private set; } = 0.75f;

    public int TopK { get; private set; } = 40;

    public float TopP { get; private set; } = 0.9f;

    public uint Seed { get; private set; } = 42;

    public int Vocab { get; private set; } = 32000;

    public string OutputFolder { get; private set; } = Path.Combine("out", "OnnxGenerate");

    public bool Quick { get; private set; }

    public bool Help { get; private set; }

    /// <summary>Parses the arguments; throws <see cref="FormatException"/> with a message for the user on a bad one.</summary>
    public static Options Parse(IReadOnlyList<string> args)
    {
        var options = new Options();
        bool tokensSet = false;
        bool vocabSet = false;
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value()
            {
                if (i + 1 >= args.Count)
                {
                    throw new FormatException($"{name} needs a value.");
                }

                return args[++i];
            }

            switch (name)
            {
                case "--help" or "-h" or "-?":
                    options.Help = true;
                    break;
                case "--quick":
                    options.Quick = true;
                    break;
                case "--onnx-model":
                    options.ModelFolder = Value();
                    if (!File.Exists(Path.Combine(options.ModelFolder, "genai_config.json")))
                    {
                        throw new FormatException($"--onnx-model: no genai_config.json in '{options.ModelFolder}'.");
                    }

                    break;
                case "--prompt":
                    options.Prompt = Value();
                    break;
                case "--tokens":
                    options.Tokens = Int(name, Value(), 1, 100_000);
                    tokensSet = true;
                    break;
                case "--run":
                    options.Run = Value();
                    if (options.Run is not ("greedy" or "sampled" or "constrained"))
                    {
                        throw new FormatException($"--run: '{options.Run}' is not one of greedy, sampled, constrained.");
                    }

                    break;
                case "--temperature":
                    options.Temperature = Float(name, Value(), 1e-3f, 100);
                    break;
                case "--top-k":
                    options.TopK = Int(name, Value(), 1, int.MaxValue);
                    break;
                case "--top-p":
                    options.TopP = Float(name, Value(), float.Epsilon, 1);
                    break;
                case "--seed":
                    options.Seed = uint.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out uint seed)
                        ? seed
                        : throw new FormatException($"{name}: expected a non-negative integer.");
                    break;
                case "--vocab":
                    options.Vocab = Int(name, Value(), 260, 262_144);
                    vocabSet = true;
                    break;
                case "--out":
                    options.OutputFolder = Value();
                    break;
                default:
                    throw new FormatException($"Unknown argument '{name}'.");
            }
        }

        if (options.Quick)
        {
            options.Tokens = tokensSet ? options.Tokens : 16;
            options.Vocab = vocabSet ? options.Vocab : 512;
        }

        return options;
    }

    private static int Int(string name, string text, int min, int max) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new FormatException($"{name}: expected an integer in [{min}, {max}], got '{text}'.");

    private static float Float(string name, string text, float min, float max) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new FormatException($"{name}: expected a number in [{min}, {max}], got '{text}'.");
}
