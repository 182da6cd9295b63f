// RaddText: trains a small time-independent masked-token transformer with RADD's t-DCE loss on a synthetic character
// corpus made here, then samples it with Logits' RADD sampler with and without output caching, printing NFE, wall time
// and a quality measure for several step counts.
//
//   dotnet run -c Release --project samples/RaddText [-- --quick] [--steps N]   (--help prints the options)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using Logits.Diffusion;
using Logits.TorchSharp.Diffusion;
using static TorchSharp.torch;

const int Length = 32;
const string Usage = """
    Usage: dotnet run -c Release --project samples/RaddText [-- options]

      --quick        200 training steps instead of 1500 (a quick look; the samples are rougher)
      --steps N      training steps, at least 1 (a bare N is accepted too)
      --help, -h     this text

    Exit code: 0 after the table, 2 for a wrong command line.
    """;

int trainingSteps = 1500;
for (int i = 0; i < args.Length; i++)
{
    string option = args[i];
    if (option is "--help" or "-h")
    {
        Console.WriteLine(Usage);
        return 0;
    }

    string? stepsText = option switch
    {
        "--quick" => "200",
        "--steps" => i + 1 < args.Length ? args[++i] : "",
        _ when !option.StartsWith('-') => option,
        _ => null,
    };
    if (stepsText is null)
    {
        return WrongCommandLine($"Unknown argument '{option}'.");
    }

    if (!int.TryParse(stepsText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out trainingSteps) || trainingSteps < 1)
    {
        return WrongCommandLine($"The number of training steps must be an integer of at least 1; got '{stepsText}'.");
    }
}

static int WrongCommandLine(string message)
{
    Console.Error.WriteLine(message);
    Console.Error.WriteLine(Usage);
    return 2;
}
manual_seed(1);

// 1. A synthetic corpus: sentences of a tiny grammar, joined into one character stream.
string[] subjects = { "the cat", "a dog", "my friend", "the old man", "a bird", "her sister" };
string[] verbs = { "sees", "likes", "finds", "chases", "hears", "paints" };
string[] objects = { "the ball", "a tree", "the red car", "some fish", "the moon", "a small boat" };
var words = new HashSet<string>(subjects.Concat(verbs).Concat(objects).SelectMany(p => p.Split(' ')));
var random = new Random(7);
var corpus = new StringBuilder();
while (corpus.Length < 200_000)
{
    corpus.Append(subjects[random.Next(subjects.Length)]).Append(' ').Append(verbs[random.Next(verbs.Length)]).Append(' ')
        .Append(objects[random.Next(objects.Length)]).Append(". ");
}

string text = corpus.ToString();
char[] alphabet = text.Distinct().OrderBy(c => c).ToArray();
var index = alphabet.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
Console.WriteLine($"Corpus: {text.Length} characters, {alphabet.Length} symbols, {words.Count} words; windows of {Length}.");

long[] Window(int start) => text.Substring(start, Length).Select(c => (long)index[c]).ToArray();
string Decode(ReadOnlySpan<int> ids)
{
    var sb = new StringBuilder();
    foreach (int id in ids)
    {
        sb.Append(id < alphabet.Length ? alphabet[id] : '_');
    }

    return sb.ToString();
}

// Quality: the share of complete words (those between two spaces or a space and a period) that the grammar knows.
double WordValidity(IEnumerable<string> samples)
{
    int known = 0, total = 0;
    foreach (string s in samples)
    {
        string[] parts = s.Split(' ', '.');
        for (int i = 1; i < parts.Length - 1; i++)
        {
            if (parts[i].Length == 0)
            {
                continue;
            }

            total++;
            known += words.Contains(parts[i]) ? 1 : 0;
        }
    }

    return total == 0 ? 0 : (double)known / total;
}

// 2. Train.
using var model = MaskedTokenTransformer.Create(alphabet.Length, Length, width: 64, heads: 4, layers: 2);
using var trainer = new RaddTrainer(model, learningRate: 1e-3, seed: 3);
const int Batch = 64;
var clock = Stopwatch.StartNew();
for (int step = 1; step <= trainingSteps; step++)
{
    var data = new long[Batch * Length];
    for (int b = 0; b < Batch; b++)
    {
        Window(random.Next(text.Length - Length)).CopyTo(data, b * Length);
    }

    using var batch = tensor(data, new long[] { Batch, Length });
    double loss = trainer.Step(batch);
    if (step % 250 == 0 || step == 1)
    {
        Console.WriteLine($"  step {step,5}: t-DCE loss {loss:F4} nats/char ({clock.Elapsed.TotalSeconds:F1} s)");
    }
}

var held = Enumerable.Range(0, 256).SelectMany(_ => Window(random.Next(text.Length - Length))).ToArray();
using (var heldBatch = tensor(held, new long[] { 256, Length }))
{
    double bound = Enumerable.Range(0, 8).Average(_ => trainer.Evaluate(heldBatch));
    Console.WriteLine($"Held-out t-DCE bound: {bound:F4} nats/char, perplexity <= {Math.Exp(bound):F3}.");
}

Console.WriteLine($"Corpus word validity (reference): {WordValidity(Enumerable.Range(0, 200).Select(_ => text.Substring(random.Next(text.Length - Length), Length))):P1}");

// 3. Sample with and without caching.
var denoiser = new TorchDenoiser(model);
const int Samples = 32;
Console.WriteLine();
Console.WriteLine("steps | E-NFE  | NFE cached | NFE uncached | time cached | time uncached | speedup | word validity");
foreach (int n in new[] { 8, 32, 128, 512 })
{
    var timer = Stopwatch.StartNew();
    var cached = new RaddSampler(n).Sample(denoiser, Samples, Length, seed: 11);
    double cachedSeconds = timer.Elapsed.TotalSeconds;
    timer.Restart();
    var uncached = new RaddSampler(n, caching: false).Sample(denoiser, Samples, Length, seed: 11);
    double uncachedSeconds = timer.Elapsed.TotalSeconds;
    if (!cached.Tokens.SequenceEqual(uncached.Tokens))
    {
        throw new InvalidOperationException("Caching changed the samples.");
    }

    var texts = Enumerable.Range(0, Samples).Select(b => Decode(cached.Sequence(b))).ToList();
    Console.WriteLine($"{n,5} | {RaddNfe.Expected(n, Length),6:F2} | {cached.FunctionEvaluations.Average(),10:F2} | {uncached.FunctionEvaluations.Average(),12:F0} | {cachedSeconds,9:F2} s | {uncachedSeconds,11:F2} s | {uncachedSeconds / cachedSeconds,6:F2}x | {WordValidity(texts),12:P1}");
    Console.WriteLine($"      e.g. \"{texts[0]}\"");
}

return 0;
