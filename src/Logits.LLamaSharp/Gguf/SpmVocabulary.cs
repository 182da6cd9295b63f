using System.Text;

namespace Logits.LLamaSharp.Gguf;

/// <summary>
/// A SentencePiece-style (llama.cpp <c>"llama"</c> tokenizer) vocabulary with byte fallback: <c>&lt;unk&gt;</c>,
/// <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, the 256 byte tokens <c>&lt;0x00&gt;</c> … <c>&lt;0xFF&gt;</c>, then the pieces.
/// </summary>
/// <remarks>
/// <para>Ids: 0 unknown, 1 BOS, 2 EOS (control tokens), 3 … 258 the bytes (type "byte"), then the pieces in the
/// given order (type "normal"). A space is written <see cref="SpaceMarker"/> (U+2581) inside pieces, and llama.cpp
/// adds one before the text when tokenizing. Text that no piece covers falls back to its UTF-8 bytes, so every
/// string round-trips.</para>
/// <para>llama.cpp's SentencePiece tokenizer starts from single characters and repeatedly merges the adjacent pair
/// whose concatenation is a piece with the highest score; a piece is reachable only if it can be built by such
/// merges. Scores default to <c>-index</c>, so earlier pieces win.</para>
/// </remarks>
public sealed class SpmVocabulary
{
    /// <summary>The character that stands for a space inside pieces (U+2581, "▁").</summary>
    public const string SpaceMarker = "\u2581";

    /// <summary>The id of <c>&lt;unk&gt;</c>.</summary>
    public const int UnknownId = 0;

    /// <summary>The id of the beginning-of-sequence token <c>&lt;s&gt;</c>.</summary>
    public const int BosId = 1;

    /// <summary>The id of the end-of-sequence token <c>&lt;/s&gt;</c>.</summary>
    public const int EosId = 2;

    /// <summary>The id of the byte token <c>&lt;0x00&gt;</c>; byte <c>b</c> is <c>FirstByteId + b</c>.</summary>
    public const int FirstByteId = 3;

    /// <summary>The id of the first piece (after the three special and 256 byte tokens).</summary>
    public const int FirstPieceId = FirstByteId + 256;

    // llama.cpp's token types (llama_token_type).
    private const int NormalType = 1;
    private const int UnknownType = 2;
    private const int ControlType = 3;
    private const int ByteType = 6;

    private readonly string[] _tokens;
    private readonly float[] _scores;
    private readonly int[] _types;

    /// <summary>Creates a vocabulary from its pieces.</summary>
    /// <param name="pieces">The pieces, at least one, distinct, non-empty, none equal to a special or byte token's text.</param>
    /// <param name="scores">One score per piece (higher merges first); default <c>-index</c>.</param>
    /// <exception cref="ArgumentException">The pieces are empty, hold a duplicate, an empty piece or a reserved text, or the scores' count differs.</exception>
    public SpmVocabulary(IReadOnlyList<string> pieces, IReadOnlyList<float>? scores = null)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        if (pieces.Count == 0)
        {
            throw new ArgumentException("At least one piece is needed.", nameof(pieces));
        }

        if (scores is not null && scores.Count != pieces.Count)
        {
            throw new ArgumentException($"{scores.Count} scores were given for {pieces.Count} pieces.", nameof(scores));
        }

        int count = FirstPieceId + pieces.Count;
        _tokens = new string[count];
        _scores = new float[count];
        _types = new int[count];
        _tokens[UnknownId] = "<unk>";
        _types[UnknownId] = UnknownType;
        _tokens[BosId] = "<s>";
        _types[BosId] = ControlType;
        _tokens[EosId] = "</s>";
        _types[EosId] = ControlType;
        for (int b = 0; b < 256; b++)
        {
            _tokens[FirstByteId + b] = $"<0x{b:X2}>";
            _types[FirstByteId + b] = ByteType;
        }

        var seen = new HashSet<string>(_tokens.AsSpan(0, FirstPieceId).ToArray(), StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++)
        {
            string piece = pieces[i];
            if (string.IsNullOrEmpty(piece))
            {
                throw new ArgumentException($"The piece at index {i} is null or empty.", nameof(pieces));
            }

            if (!seen.Add(piece))
            {
                throw new ArgumentException($"The piece '{piece}' at index {i} is a duplicate or a reserved token text.", nameof(pieces));
            }

            _tokens[FirstPieceId + i] = piece;
            _scores[FirstPieceId + i] = scores?[i] ?? -i;
            _types[FirstPieceId + i] = NormalType;
        }
    }

    /// <summary>The number of tokens (specials, bytes and pieces).</summary>
    public int Count => _tokens.Length;

    /// <summary>The token texts, indexed by id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The token scores, indexed by id.</summary>
    public IReadOnlyList<float> Scores => _scores;

    /// <summary>
    /// Creates a vocabulary of exactly <paramref name="size"/> tokens whose pieces are lower-case letter strings:
    /// <c>"▁"</c>, the letters, the letters after a space, then every two-letter string with and without a leading
    /// space, then three letters, and so on, so that every piece is reachable by merges.
    /// </summary>
    /// <param name="size">The vocabulary size, at least <see cref="FirstPieceId"/> + 53 (312).</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 312.</exception>
    public static SpmVocabulary CreateSynthetic(int size)
    {
        const int MinimumPieces = 1 + 26 + 26;
        if (size < FirstPieceId + MinimumPieces)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A synthetic vocabulary needs at least {FirstPieceId + MinimumPieces} tokens.");
        }

        int wanted = size - FirstPieceId;
        var pieces = new List<string>(wanted) { SpaceMarker };
        var builder = new StringBuilder();
        for (int length = 1; pieces.Count < wanted; length++)
        {
            long combinations = (long)Math.Pow(26, length);
            for (long n = 0; n < combinations && pieces.Count < wanted; n++)
            {
                builder.Clear();
                long rest = n;
                for (int c = 0; c < length; c++)
                {
                    builder.Insert(0, (char)('a' + (int)(rest % 26)));
                    rest /= 26;
                }

                string word = builder.ToString();
                pieces.Add(word);
                if (pieces.Count < wanted)
                {
                    pieces.Add(SpaceMarker + word);
                }
            }
        }

        return new SpmVocabulary(pieces);
    }

    /// <summary>Writes the <c>tokenizer.ggml.*</c> metadata.</summary>
    /// <param name="writer">The GGUF writer.</param>
    public void WriteTo(GgufWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.AddString("tokenizer.ggml.model", "llama");
        writer.AddStringArray("tokenizer.ggml.tokens", _tokens);
        writer.AddFloat32Array("tokenizer.ggml.scores", _scores);
        writer.AddInt32Array("tokenizer.ggml.token_type", _types);
        writer.AddUInt32("tokenizer.ggml.unknown_token_id", UnknownId);
        writer.AddUInt32("tokenizer.ggml.bos_token_id", BosId);
        writer.AddUInt32("tokenizer.ggml.eos_token_id", EosId);
        writer.AddBool("tokenizer.ggml.add_bos_token", true);
        writer.AddBool("tokenizer.ggml.add_eos_token", false);
    }
}
