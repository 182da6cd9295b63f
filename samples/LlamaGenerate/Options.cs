using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Logits.Samples.LlamaGenerate;

/// <summary>The command line of the sample.</summary>
internal sealed class Options
{
    public const string Usage = """
        Generates text from one prompt through llama.cpp (LLamaSharp) with Logits as the sampling layer, under greedy,
        llama.cpp's default chain, min-p and classifier-free guidance with a negative prompt, and prints Logits'
        per-token sampling time next to LLamaSharp's own pipeline with the same settings.

        Usage: dotnet run --project samples/LlamaGenerate -c Release [-- options]

          --model PATH       a GGUF model you have; without it a synthetic llama model is written to --out
          --prompt TEXT      the prompt (default "The quick brown fox")
          --negative TEXT    the negative prompt of the CFG run (default "abc def")
          --cfg-scale S      the CFG scale, finite (default 1.5)
          --tokens N         new tokens per run, at least 1 (default 48; 16 with --quick)
          --run NAME         only one run: greedy | default | min-p | cfg (default: all four)
          --temperature T    temperature of the default and min-p runs, at least 0 (default 0.75)
          --top-k K          top-k of the default run, 0 = off (default 40)
          --top-p P          top-p of the default run, in (0, 1] (default 0.9)
          --min-p P          min-p of the min-p run, in [0, 1) (default 0.05)
          --seed N           seed of every random draw (default 42)
          --vocab N          vocabulary of the synthetic model, at least 312 (default 32000; 512 with --quick)
          --threads N        llama.cpp threads, at least 1 (default 2)
          --out DIR          output folder (default out/LlamaGenerate); a results.md is written there
          --quick            a few seconds: 16 tokens per run on a 512-token synthetic model
          --help             this text
        """;

    public string? ModelPath { get; private set; }

    public string Prompt { get; private set; } = "The quick brown fox";

    public string NegativePrompt { get; private set; } = "abc def";

    public float CfgScale { get; private set; } = 1.5f;

    public int Tokens { get; private set; } = 48;

    public string? Run { get; private set; }

    public float Temperature { get; private set; } = 0.75f;

    public int TopK { get; private set; } = 40;

    public float TopP { get; private set; } = 0.9f;

    public float MinP { get; private set; } = 0.05f;

    public uint Seed { get; private set; } = 42;

    public int Vocab { get; private set; } = 32000;

    public int Threads { get; private set; } = 2;

    public string OutputFolder { get; private set; } = Path.Combine("out", "LlamaGenerate");

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
                case "--model":
                    options.ModelPath = Value();
                    if (!File.Exists(options.ModelPath))
                    {
                        throw new FormatException($"--model: no file at '{options.ModelPath}'.");
                    }

                    break;
                case "--prompt":
                    options.Prompt = Value();
                    break;
                case "--negative":
                    options.NegativePrompt = Value();
                    break;
                case "--cfg-scale":
                    options.CfgScale = Float(name, Value(), float.MinValue, float.MaxValue);
                    break;
                case "--tokens":
                    options.Tokens = Int(name, Value(), 1, 100_000);
                    tokensSet = true;
                    break;
                case "--run":
                    options.Run = Value();
                    if (options.Run is not ("greedy" or "default" or "min-p" or "cfg"))
                    {
                        throw new FormatException($"--run: '{options.Run}' is not one of greedy, default, min-p, cfg.");
                    }

                    break;
                case "--temperature":
                    options.Temperature = Float(name, Value(), 0, 100);
                    break;
                case "--top-k":
                    options.TopK = Int(name, Value(), 0, int.MaxValue);
                    break;
                case "--top-p":
                    options.TopP = Float(name, Value(), float.Epsilon, 1);
                    break;
                case "--min-p":
                    options.MinP = Float(name, Value(), 0, 0.999999f);
                    break;
                case "--seed":
                    options.Seed = uint.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out uint seed)
                        ? seed
                        : throw new FormatException($"{name}: expected a non-negative integer.");
                    break;
                case "--vocab":
                    options.Vocab = Int(name, Value(), 312, 1_000_000);
                    vocabSet = true;
                    break;
                case "--threads":
                    options.Threads = Int(name, Value(), 1, 1024);
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
