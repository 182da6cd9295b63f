using System.IO;
using FluentAssertions;
using LLama;
using LLama.Native;
using Logits.LLamaSharp.Gguf;
using Xunit;

namespace Logits.LLamaSharp.Tests.Gguf;

public class SyntheticLlamaModelTests
{
    [Fact]
    public void LlamaCppLoadsTheModelWithItsShapeAndVocabulary()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        weights.Vocab.Count.Should().Be(512);
        weights.EmbeddingSize.Should().Be(64);
        weights.NativeHandle.LayerCount.Should().Be(1);
        weights.Vocab.BOS.Should().Be((LLamaToken)SpmVocabulary.BosId);
        weights.Vocab.EOS.Should().Be((LLamaToken)SpmVocabulary.EosId);
        // Embedding and head (8·V·d bytes), the block and the vocabulary metadata: well under 1 MB.
        new FileInfo(path).Length.Should().BeInRange(8L * 512 * 64, 1_000_000);
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("abc xyz q")]
    [InlineData("Ünïcödé and 123 digits!")]
    public void TextRoundTripsThroughTheTokenizer(string text)
    {
        var weights = SyntheticModels.Small;
        var (path, _) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        using var context = weights.CreateContext(SyntheticModels.ContextParams(path));
        var tokens = context.Tokenize(text, addBos: false, special: false);
        tokens.Should().NotBeEmpty();
        var decoder = new StreamingTokenDecoder(context);
        decoder.AddRange(tokens);
        decoder.Read().TrimStart().Should().Be(text);
    }

    [Fact]
    public void GreedyNextTokenIsTheDesignedSuccessorOnMostPieces()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        using var context = weights.CreateContext(SyntheticModels.ContextParams(path));
        int hits = 0;
        int trials = 0;
        for (int token = SpmVocabulary.FirstPieceId; token < 512; token += 7)
        {
            context.NativeHandle.MemoryClear();
            var batch = new LLamaBatch();
            batch.Add((LLamaToken)SpmVocabulary.BosId, 0, LLamaSeqId.Zero, false);
            batch.Add((LLamaToken)token, 1, LLamaSeqId.Zero, true);
            context.NativeHandle.Decode(batch).Should().Be(DecodeResult.Ok);
            var logits = context.NativeHandle.GetLogitsIth(1);
            int argmax = 0;
            for (int i = 1; i < logits.Length; i++)
            {
                if (logits[i] > logits[argmax])
                {
                    argmax = i;
                }
            }

            trials++;
            hits += argmax == SyntheticLlamaModel.Successor(token, 512) ? 1 : 0;
        }

        hits.Should().BeGreaterThan(trials * 9 / 10, "the output head is designed so the successor wins");
    }
}
