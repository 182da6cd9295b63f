using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LLama;
using LLama.Native;
using LLama.Sampling;

namespace Logits.LLamaSharp.Tests;

/// <summary>Small helpers shared by the llama.cpp tests.</summary>
internal static class LlamaTestHelpers
{
    /// <summary>Decodes <paramref name="tokens"/> into sequence 0 from position 0 with logits for the last one; returns its batch index.</summary>
    public static int DecodePrompt(LLamaContext context, IReadOnlyList<int> tokens, LLamaBatch batch)
    {
        batch.Clear();
        for (int i = 0; i < tokens.Count; i++)
        {
            batch.Add(tokens[i], i, LLamaSeqId.Zero, i == tokens.Count - 1);
        }

        Check(context.NativeHandle.Decode(batch));
        return batch.TokenCount - 1;
    }

    /// <summary>Decodes one token at <paramref name="position"/>; returns its batch index (0).</summary>
    public static int DecodeOne(LLamaContext context, int token, int position, LLamaBatch batch)
    {
        batch.Clear();
        batch.Add(token, position, LLamaSeqId.Zero, true);
        Check(context.NativeHandle.Decode(batch));
        return 0;
    }

    /// <summary>Greedy-decodes <paramref name="steps"/> tokens after <paramref name="prompt"/> with <paramref name="sampler"/>.</summary>
    public static List<int> Generate(LLamaContext context, IReadOnlyList<int> prompt, ISamplingPipeline sampler, int steps)
    {
        context.NativeHandle.MemoryClear();
        var batch = new LLamaBatch();
        int index = DecodePrompt(context, prompt, batch);
        var output = new List<int>();
        for (int step = 0; step < steps; step++)
        {
            int token = (int)sampler.Sample(context.NativeHandle, index);
            output.Add(token);
            index = DecodeOne(context, token, prompt.Count + step, batch);
        }

        return output;
    }

    public static async Task<string> CollectAsync(IAsyncEnumerable<string> text)
    {
        var all = new System.Text.StringBuilder();
        await foreach (string piece in text)
        {
            all.Append(piece);
        }

        return all.ToString();
    }

    public static int[] Tokenize(LLamaContext context, string text, bool addBos = true) =>
        context.Tokenize(text, addBos, special: true).Select(t => (int)t).ToArray();

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode returned {result}.");
        }
    }
}

/// <summary>Wraps a sampling pipeline and records every token it returns.</summary>
internal sealed class RecordingPipeline : ISamplingPipeline
{
    private readonly ISamplingPipeline _inner;

    public RecordingPipeline(ISamplingPipeline inner) => _inner = inner;

    public List<int> Tokens { get; } = new();

    public LLamaToken Sample(SafeLLamaContextHandle ctx, int index)
    {
        var token = _inner.Sample(ctx, index);
        Tokens.Add((int)token);
        return token;
    }

    public void Apply(SafeLLamaContextHandle ctx, LLamaTokenDataArray data) => _inner.Apply(ctx, data);

    public void Reset()
    {
        Tokens.Clear();
        _inner.Reset();
    }

    public void Accept(LLamaToken token) => _inner.Accept(token);

    public void Dispose() => _inner.Dispose();
}
