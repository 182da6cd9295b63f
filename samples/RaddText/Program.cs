// RaddText: trains a small time-independent masked-token transformer with RADD's t-DCE loss on a synthetic character
// corpus made here (linear warm-up, cosine learning-rate decay, an exponential moving average of the weights), then
// samples it with Logits' RADD sampler with and without output caching, printing NFE, wall time and the share of
// valid words for several step counts, and plots the training curve and the word validity.
//
//   dotnet run -c Release --project samples/RaddText [-- --quick] [--steps N] [--threads N] [--out DIR]   (--help prints the options)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Logits.Diffusion;
using Logits.TorchSharp;
using Logits.TorchSharp.Diffusion;
using Logits.TorchSharp.Optimization;
using ScottPlot;
using static TorchSharp.torch;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const int Length = 32;
const int DefaultSteps = 10000;
const int QuickSteps = 300;
const int DefaultBatch = 64;
const double DefaultPeakLearningRate = 3e-3;
string usage = $"""
    Usage: dotnet run -c Release --project samples/RaddText [-- options]

      --quick        {QuickSteps} training steps instead of {DefaultSteps} (a look in seconds; the samples are mostly not words)
      --steps N      training steps, at least 1 (a bare N is accepted too)
      --learning-rate X  peak AdamW learning rate after the warm-up (default {DefaultPeakLearningRate})
      --batch N      sequences per training step (default {DefaultBatch})
      --threads N    torch intra-op threads, at least 1 (default {TorchRuntime.DefaultIntraOpThreads} here: 1 on machines with 2 or fewer cores)
      --out DIR      folder for the PNG plots (default samples-output/radd-text, ignored by git)
      --help, -h     this text

    Exit code: 0 after the table, 2 for a wrong command line.
    """;

int trainingSteps = DefaultSteps;
int threads = TorchRuntime.DefaultIntraOpThreads;
int batchSize = DefaultBatch;
double peakLearningRate = DefaultPeakLearningRate;
string outDir = Path.Combine("samples-output", "radd-text");
for (int i = 0; i < args.Length; i++)
{
    string option = args[i];
    if (option is "--help" or "-h")
    {
        Console.WriteLine(usage);
        return 0;
    }

    string? Next() => i + 1 < args.Length ? args[++i] : null;
    switch (option)
    {
        case "--quick":
            trainingSteps = QuickSteps;
            break;
        case "--steps":
            if (!TryPositive(Next(), out trainingSteps))
            {
                return WrongCommandLine("'--steps' needs an integer of at least 1.");
            }

            break;
        case "--batch":
            if (!TryPositive(Next(), out batchSize))
            {
                return WrongCommandLine("'--batch' needs an integer of at least 1.");
            }

            break;
        case "--threads":
            if (!TryPositive(Next(), out threads))
            {
                return WrongCommandLine("'--threads' needs an integer of at least 1.");
            }

            break;
        case "--learning-rate":
            if (!double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out peakLearningRate) || !(peakLearningRate > 0) || !double.IsFinite(peakLearningRate))
            {
                return WrongCommandLine("'--learning-rate' needs a positive number.");
            }

            break;
        case "--out":
            string? folder = Next();
            if (string.IsNullOrWhiteSpace(folder))
            {
                return WrongCommandLine("'--out' needs a folder.");
            }

            outDir = folder;
            break;
        default:
            if (option.StartsWith('-') || !TryPositive(option, out trainingSteps))
            {
                return WrongCommandLine($"Unknown argument '{option}'.");
            }

            break;
    }
}

static bool TryPositive(string? text, out int value) =>
    int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1;

int WrongCommandLine(string message)
{
    Console.Error.WriteLine(message);
    Console.Error.WriteLine(usage);
    return 2;
}

// libtorch's default uses every core; on a small shared machine one thread is many times faster (see README).
TorchRuntime.SetIntraOpThreads(threads);
manual_seed(1);
Directory.CreateDirectory(outDir);

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

// The corpus's entropy rate: each sentence is 3 uniform choices of 6 (ln 216 nats) over its mean length in characters.
double meanSentence = subjects.Average(s => s.Length) + 1 + verbs.Average(s => s.Length) + 1 + objects.Average(s => s.Length) + 2;
double entropyRate = 3 * Math.Log(6) / meanSentence;
Console.WriteLine($"Corpus: {text.Length} characters, {alphabet.Length} symbols, {words.Count} words; windows of {Length}; entropy rate {entropyRate:F3} nats/char.");

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

// 2. Train: AdamW with a linear warm-up and a cosine decay; the sampled weights are an exponential moving average.
// Warm-up over the first 5 % of the steps, then a cosine decay to 1/50 of the peak at the last step.
var schedule = new WarmupCosineSchedule(Math.Min(Math.Max(1, trainingSteps / 20), trainingSteps - 1), trainingSteps, minimumFactor: 1.0 / 50);
using var model = MaskedTokenTransformer.Create(alphabet.Length, Length, width: 64, heads: 4, layers: 2);
using var trainer = new RaddTrainer(model, learningRate: peakLearningRate, seed: 3);
using var average = new ExponentialMovingAverage(model, decay: 0.999);
Console.WriteLine($"Training {trainingSteps} steps of batch {batchSize} (warm-up {schedule.WarmupSteps}, peak learning rate {peakLearningRate}, EMA decay {average.Decay}), {threads} torch thread(s).");
var clock = Stopwatch.StartNew();
var curveSteps = new List<double>();
var curveLoss = new List<double>();
double windowLoss = 0;
int windowCount = 0;
int reportEvery = Math.Max(1, trainingSteps / 40);
var lastPrint = TimeSpan.Zero;
for (int step = 1; step <= trainingSteps; step++)
{
    var data = new long[batchSize * Length];
    for (int b = 0; b < batchSize; b++)
    {
        Window(random.Next(text.Length - Length)).CopyTo(data, b * Length);
    }

    using var batch = tensor(data, new long[] { batchSize, Length });
    trainer.LearningRate = peakLearningRate * schedule.Factor(step);
    windowLoss += trainer.Step(batch);
    windowCount++;
    average.Update();
    if (step % reportEvery == 0 || step == trainingSteps)
    {
        curveSteps.Add(step);
        curveLoss.Add(windowLoss / windowCount);
        // Progress at most every 5 s (and at the end), with the time left at the pace so far.
        if (clock.Elapsed - lastPrint > TimeSpan.FromSeconds(5) || step == trainingSteps)
        {
            lastPrint = clock.Elapsed;
            double left = clock.Elapsed.TotalSeconds / step * (trainingSteps - step);
            Console.WriteLine($"  step {step,6}/{trainingSteps}: t-DCE loss {windowLoss / windowCount:F4} nats/char, learning rate {trainer.LearningRate:E2} ({clock.Elapsed.TotalSeconds:F0} s, about {left:F0} s left)");
        }

        windowLoss = 0;
        windowCount = 0;
    }
}

Console.WriteLine($"Training took {clock.Elapsed.TotalSeconds:F0} s.");
var held = Enumerable.Range(0, 256).SelectMany(_ => Window(random.Next(text.Length - Length))).ToArray();
double lastBound;
using (var heldBatch = tensor(held, new long[] { 256, Length }))
{
    lastBound = Enumerable.Range(0, 8).Average(_ => trainer.Evaluate(heldBatch));
    average.CopyToModule();
    double bound = Enumerable.Range(0, 8).Average(_ => trainer.Evaluate(heldBatch));
    Console.WriteLine($"Held-out t-DCE bound: {bound:F4} nats/char with the averaged weights ({lastBound:F4} with the last ones); {bound - entropyRate:F3} above the corpus entropy rate {entropyRate:F3}.");
    lastBound = bound;
}

Console.WriteLine($"Corpus word validity (reference): {WordValidity(Enumerable.Range(0, 200).Select(_ => text.Substring(random.Next(text.Length - Length), Length))):P1}");

// 3. Sample with and without caching (the averaged weights).
var denoiser = new TorchDenoiser(model);
const int Samples = 64;
int[] stepCounts = { 8, 32, 128, 512 };
var validity = new List<double>();
Console.WriteLine();
Console.WriteLine($"{Samples} samples per row:");
Console.WriteLine("steps | E-NFE  | NFE cached | NFE uncached | time cached | time uncached | speedup | word validity");
foreach (int n in stepCounts)
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
    double valid = WordValidity(texts);
    validity.Add(valid);
    Console.WriteLine($"{n,5} | {RaddNfe.Expected(n, Length),6:F2} | {cached.FunctionEvaluations.Average(),10:F2} | {uncached.FunctionEvaluations.Average(),12:F0} | {cachedSeconds,9:F2} s | {uncachedSeconds,11:F2} s | {uncachedSeconds / cachedSeconds,6:F2}x | {valid,12:P1}");
    Console.WriteLine($"      e.g. \"{texts[0]}\" \"{texts[1]}\"");
}

// 4. Plots.
var lossPlot = new Plot();
var lossLine = lossPlot.Add.Scatter(curveSteps.ToArray(), curveLoss.ToArray());
lossLine.LegendText = $"t-DCE loss (mean over {reportEvery} steps)";
lossLine.MarkerSize = 0;
var entropyLine = lossPlot.Add.HorizontalLine(entropyRate);
entropyLine.LegendText = $"corpus entropy rate {entropyRate:F3}";
entropyLine.LinePattern = LinePattern.Dashed;
var boundLine = lossPlot.Add.HorizontalLine(lastBound);
boundLine.LegendText = $"held-out bound, averaged weights {lastBound:F3}";
boundLine.LinePattern = LinePattern.Dotted;
lossPlot.Axes.SetLimitsY(0, Math.Min(3.5, curveLoss.Max() * 1.05));
lossPlot.Title($"RaddText: training loss ({trainingSteps} steps, warm-up + cosine learning rate)");
lossPlot.XLabel("training step");
lossPlot.YLabel("nats per character");
lossPlot.ShowLegend(Alignment.UpperRight);
string lossPath = Path.Combine(outDir, "training-loss.png");
lossPlot.SavePng(lossPath, 900, 550);

var validityPlot = new Plot();
double[] positions = Enumerable.Range(0, stepCounts.Length).Select(i => (double)i).ToArray();
var bars = validityPlot.Add.Bars(positions, validity.Select(v => 100 * v).ToArray());
bars.LegendText = $"valid words in {Samples} samples";
var corpusLine = validityPlot.Add.HorizontalLine(100);
corpusLine.LegendText = "the corpus (100 %)";
corpusLine.LinePattern = LinePattern.Dashed;
validityPlot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, stepCounts.Select(n => $"n = {n}").ToArray());
validityPlot.Axes.SetLimitsY(0, 130);
validityPlot.Title("RaddText: share of generated words the grammar knows, by sampling steps");
validityPlot.XLabel("RADD sampling steps n (sequence length 32)");
validityPlot.YLabel("valid words (%)");
validityPlot.ShowLegend(Alignment.UpperLeft);
string validityPath = Path.Combine(outDir, "word-validity.png");
validityPlot.SavePng(validityPath, 900, 550);
Console.WriteLine();
Console.WriteLine($"Plots: {Path.GetFullPath(lossPath)}, {Path.GetFullPath(validityPath)}");
return 0;
