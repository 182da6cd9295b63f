using System;
using System.Globalization;
using System.IO;

namespace Logits.Samples.Demo.Tour;

/// <summary>The tour's command line: an optional part name, then options.</summary>
internal sealed class TourOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project samples/Demo [-- [PART] [options]]

        The Logits tour. With no PART it runs every part in order (about 3 minutes on 2 cores):
          train       train a tiny llama-architecture model in TorchSharp for about a minute (or reuse the cached one),
                      export it to GGUF and check that llama.cpp computes the same logits
          sample      generate from one prompt through llama.cpp with greedy, llama.cpp's default chain, min-p, DRY,
                      classifier-free guidance and STEER (negative prompt): texts side by side, and the sampling time
                      per token of Logits and of llama.cpp's own sampler at the same settings
          flows       rectified flow and reflow on a 2-D toy: the straightness table (quick form)
          diffusion   RADD sampling with and without output caching: the NFE table (quick form)
          samples     the full samples, one line each

        Options:
          --threads N         torch and llama.cpp threads (default: 1 on machines with 2 or fewer cores, else 4)
          --train-seconds S   training time for a new model, 5 to 3600 (default 60)
          --retrain           train a new model even if a cached one exists
          --quick             train for 15 seconds instead of 60 (a rougher model; the rest is already quick)
          --out DIR           outputs and the cached model (default out/Demo, git-ignored)
          --help, -h          this text

        Exit code: 0 when every check passed; 1 when a check failed (TorchSharp and llama.cpp logits differ by more than
        1e-3, Logits' and llama.cpp's greedy texts differ, or RADD's cache changed a sample); 2 for a wrong command line.
        """;

    public static readonly string[] Parts = { "train", "sample", "flows", "diffusion", "samples" };

    public string? Part { get; private set; }

    public int Threads { get; private set; } = Environment.ProcessorCount <= 2 ? 1 : 4;

    public int TrainSeconds { get; private set; } = 60;

    public bool Retrain { get; private set; }

    public string OutputFolder { get; private set; } = Path.Combine("out", "Demo");

    public bool Help { get; private set; }

    /// <summary>Parses the arguments.</summary>
    /// <exception cref="FormatException">An argument is unknown or a value is invalid.</exception>
    public static TourOptions Parse(string[] args)
    {
        var options = new TourOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"The option '{arg}' needs a value.");
            switch (arg)
            {
                case "--help" or "-h":
                    options.Help = true;
                    break;
                case "--threads":
                    options.Threads = Integer(arg, Value(), 1, 256);
                    break;
                case "--train-seconds":
                    options.TrainSeconds = Integer(arg, Value(), 5, 3600);
                    break;
                case "--quick":
                    options.TrainSeconds = 15;
                    break;
                case "--retrain":
                    options.Retrain = true;
                    break;
                case "--out":
                    options.OutputFolder = Value();
                    break;
                default:
                    if (options.Part is null && Array.IndexOf(Parts, arg) >= 0)
                    {
                        options.Part = arg;
                        break;
                    }

                    throw new FormatException($"Unknown argument '{arg}'.");
            }
        }

        return options;
    }

    public bool Runs(string part) => Part is null || Part == part;

    private static int Integer(string option, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new FormatException($"The option '{option}' takes an integer from {min} to {max}; got '{text}'.");
        }

        return value;
    }
}
