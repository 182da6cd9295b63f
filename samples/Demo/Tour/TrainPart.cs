using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LLama;
using LLama.Common;
using LLama.Native;
using Logits.LLamaSharp.Models;
using Logits.Samples.Demo.TinyLlama;
using Logits.Tensors;
using Logits.TorchSharp.Models;
using Spectre.Console;
using static TorchSharp.torch;

namespace Logits.Samples.Demo.Tour;

/// <summary>The trained model: the TorchSharp decoder, its GGUF export and its vocabulary.</summary>
internal sealed class TinyModel(LlamaDecoder decoder, string ggufPath, CharacterVocabulary vocabulary) : IDisposable
{
    public LlamaDecoder Decoder => decoder;

    public string GgufPath => ggufPath;

    public CharacterVocabulary Vocabulary => vocabulary;

    public void Dispose() => decoder.Dispose();
}

/// <summary>Part 1: train (or reuse) the tiny llama, export it to GGUF, check llama.cpp's logits against TorchSharp's.</summary>
internal static class TrainPart
{
    private const double AgreementTolerance = 1e-3;
    private const int BatchSize = 32;
    private static readonly string[] CheckPrompts = { "the", "the small cat chases a", "the old dog buries the bone by the river. the fox" };

    public static TinyModel Run(TourOptions options, Checks checks)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule("[bold]1. A tiny llama, trained in TorchSharp, run by llama.cpp[/]").LeftJustified());
        var vocabulary = new CharacterVocabulary();
        var decoderOptions = TinyLlamaTraining.Options(vocabulary.Count);
        string checkpoint = Path.Combine(options.OutputFolder, "tiny-llama.ckpt");
        string gguf = Path.Combine(options.OutputFolder, "tiny-llama.gguf");
        string notes = Path.Combine(options.OutputFolder, "tiny-llama.txt");
        string shape = $"V={decoderOptions.VocabSize} d={decoderOptions.Width} h={decoderOptions.Heads} L={decoderOptions.Layers} ff={decoderOptions.FeedForwardWidth} T={decoderOptions.MaxSequenceLength}";

        var decoder = LlamaDecoder.Create(decoderOptions, seed: 1);
        bool cached = !options.Retrain && File.Exists(checkpoint) && File.Exists(notes) && File.ReadLines(notes).FirstOrDefault() == shape;
        string summary;
        if (cached)
        {
            ModuleCheckpoint.Load(decoder, checkpoint);
            summary = string.Join("; ", File.ReadLines(notes).Skip(1));
            AnsiConsole.MarkupLine($"Reusing the model trained earlier ([blue]{Markup.Escape(checkpoint)}[/]; [grey]--retrain[/] trains a new one).");
        }
        else
        {
            summary = Train(decoder, vocabulary, options.TrainSeconds);
            ModuleCheckpoint.Save(decoder, checkpoint);
            File.WriteAllLines(notes, new[] { shape, summary });
        }

        decoder.eval();
        LlamaExport.ToGguf(decoder, vocabulary.Spm).Save(gguf);

        var table = new Table().Border(TableBorder.Rounded).AddColumns("model", "value");
        table.AddRow("architecture", Markup.Escape($"llama: RMSNorm, rotary (llama.cpp pairs), SwiGLU, tied head; {shape}"));
        table.AddRow("parameters", decoder.ParameterCount.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("corpus", "generated sentences (samples/Demo/TinyLlama/TinyCorpus.cs), one token per character");
        table.AddRow("training", Markup.Escape(summary));
        table.AddRow("GGUF", Markup.Escape($"{gguf} ({new FileInfo(gguf).Length / 1024.0:0} KiB, F32)"));
        AnsiConsole.Write(table);

        double worst = Agreement(decoder, vocabulary, gguf, options.Threads);
        AnsiConsole.MarkupLine($"Next-token logits on {CheckPrompts.Length} prompts, TorchSharp vs llama.cpp: largest difference [bold]{worst:E2}[/].");
        checks.Expect(worst < AgreementTolerance, $"TorchSharp and llama.cpp logits agree within {AgreementTolerance:0.0E0} (largest difference {worst:E2})");
        return new TinyModel(decoder, gguf, vocabulary);
    }

    private static string Train(LlamaDecoder decoder, CharacterVocabulary vocabulary, int seconds)
    {
        var random = new Random(2024);
        using var held = TinyLlamaTraining.Batch(new Random(99), vocabulary, 64);
        using var trainer = new LlamaDecoderTrainer(decoder, learningRate: 3e-3);
        double loss = double.NaN;
        var clock = Stopwatch.StartNew();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: seconds);
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    using var batch = TinyLlamaTraining.Batch(random, vocabulary, BatchSize);
                    double step = trainer.Step(batch);
                    loss = double.IsNaN(loss) ? step : (0.95 * loss) + (0.05 * step);
                    if (trainer.Steps % 10 == 0)
                    {
                        task.Value = Math.Min(seconds, clock.Elapsed.TotalSeconds);
                        task.Description = $"training: step {trainer.Steps}, loss {loss:F3} nats/char";
                    }
                }

                task.Value = seconds;
            });

        double heldOut = trainer.Evaluate(held);
        string summary = $"{trainer.Steps} AdamW steps of {BatchSize}×{TinyLlamaTraining.WindowLength} tokens in {clock.Elapsed.TotalSeconds:0} s; held-out loss {heldOut:F3} nats/char (uniform: {Math.Log(vocabulary.Count):F2})";
        AnsiConsole.MarkupLine($"Trained: {Markup.Escape(summary)}.");
        return summary;
    }

    /// <summary>The largest absolute difference of the next-token logits over <see cref="CheckPrompts"/>.</summary>
    private static double Agreement(LlamaDecoder decoder, CharacterVocabulary vocabulary, string gguf, int threads)
    {
        var parameters = new ModelParams(gguf)
        {
            ContextSize = 256,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,

            // llama.cpp's default F16 KV cache and its flash-attention path round to about 1e-3; F32 shows the model's math.
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var llama = new LlamaLanguageModel(weights, parameters);
        double worst = 0;
        foreach (string prompt in CheckPrompts)
        {
            int[] ids = llama.Tokenize(prompt);
            if (!ids.SequenceEqual(vocabulary.Encode(prompt)))
            {
                return double.PositiveInfinity; // llama.cpp tokenized differently from the training encoder
            }

            using var batch = new CpuLogitBatch(1, llama.VocabSize);
            llama.NextTokenLogits(new ReadOnlyMemory<int>[] { ids }, batch);
            var fromLlama = batch.ToArray();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var fromTorch = decoder.forward(tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length }))[0, ids.Length - 1].data<float>().ToArray();
            for (int v = 0; v < fromTorch.Length; v++)
            {
                worst = Math.Max(worst, Math.Abs(fromTorch[v] - fromLlama[v]));
            }
        }

        return worst;
    }
}
