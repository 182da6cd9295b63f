using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using Logits.OnnxRuntimeGenAI.Onnx;
using Microsoft.ML.OnnxRuntimeGenAI;
using Xunit;

namespace Logits.OnnxRuntimeGenAI.Tests.Onnx;

public class SyntheticOnnxModelTests
{
    [Theory]
    [InlineData(0L, new byte[] { 0x08, 0x00 })]
    [InlineData(1L, new byte[] { 0x08, 0x01 })]
    [InlineData(300L, new byte[] { 0x08, 0xAC, 0x02 })]
    [InlineData(-1L, new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void Int64FieldsAreVarintsAfterTheirTag(long value, byte[] expected) =>
        new ProtobufWriter().Int64(1, value).ToArray().Should().Equal(expected);

    [Fact]
    public void LengthDelimitedAndFixed32FieldsFollowTheWireFormat()
    {
        // Field 2, wire type 2: tag 0x12, length 3, "abc"; field 4, wire type 5: tag 0x25, 1.0f little-endian.
        new ProtobufWriter().String(2, "abc").Float(4, 1f).ToArray()
            .Should().Equal(0x12, 0x03, (byte)'a', (byte)'b', (byte)'c', 0x25, 0x00, 0x00, 0x80, 0x3F);
        new ProtobufWriter().PackedInt64(1, [3L, 270L]).ToArray().Should().Equal(0x0A, 0x03, 0x03, 0x8E, 0x02);
    }

    [Fact]
    public void TheTokenizerRoundTripsTextAndAppliesTheMerges()
    {
        var loaded = SyntheticOnnxModels.Get(1000, 32, 1);
        using var tokenizer = new Tokenizer(loaded.Model);
        using var encoded = tokenizer.Encode("ab cd");
        var ids = encoded[0].ToArray();
        tokenizer.Decode(ids).Should().Be("ab cd");
        ids.Should().Contain(id => id >= SyntheticOnnxModel.MinimumVocabSize, "two-letter merges exist at V = 1000");
        // BPE merges by rank: "cd" (rank 57) comes before "Ġc" (rank 704).
        ids.Select(loaded.Synthetic.Piece).Should().Equal(["ab", "Ġ", "cd"]);
    }

    [Fact]
    public void TheChatTemplateWrapsTurnsInTheSpecialTokens()
    {
        using var tokenizer = new Tokenizer(SyntheticOnnxModels.Small.Model);
        string prompt = tokenizer.ApplyChatTemplate(null, """[{"role":"user","content":"hi"}]""", null, true);
        prompt.Should().Be("<|user|>hi<|end|><|assistant|>");
        using var encoded = tokenizer.Encode(prompt);
        encoded[0].ToArray().Should().Equal(257, 'h', 'i', SyntheticOnnxModel.EndOfTurnId, 258);
    }

    [Fact]
    public void TheWrittenFolderHoldsWhatTheRuntimeLoads()
    {
        string folder = SyntheticOnnxModel.WriteTemporary(new SyntheticOnnxModelOptions { VocabSize = 260, ContextLength = 8 });
        try
        {
            Directory.GetFiles(folder).Select(Path.GetFileName).Should().BeEquivalentTo(
                [SyntheticOnnxModel.GraphFileName, "genai_config.json", "tokenizer.json", "tokenizer_config.json"]);
            using var model = new Model(folder);
            model.GetModelType().Should().Be("llama");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void InvalidOptionsAndContextsAreRejected()
    {
        FluentActions.Invoking(() => new SyntheticOnnxModelOptions { VocabSize = 259 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("VocabSize");
        FluentActions.Invoking(() => new SyntheticOnnxModelOptions { ContextLength = 1 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("ContextLength");
        var model = SyntheticOnnxModels.Small.Synthetic;
        var logits = new float[model.VocabSize];
        FluentActions.Invoking(() => model.DesignedLogits([], logits)).Should().Throw<ArgumentException>().WithParameterName("context");
        FluentActions.Invoking(() => model.DesignedLogits([300], logits)).Should().Throw<ArgumentException>().WithParameterName("context");
        FluentActions.Invoking(() => model.DesignedLogits(new int[65], logits)).Should().Throw<ArgumentException>().WithParameterName("context");
        FluentActions.Invoking(() => model.DesignedLogits([1], new float[3])).Should().Throw<ArgumentException>().WithParameterName("destination");
    }
}
