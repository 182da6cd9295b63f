using System.Text.Json;

namespace Logits.OnnxRuntimeGenAI.Onnx;

/// <summary>
/// A tiny decoder-only ONNX Runtime GenAI model with designed weights, written at run time (no download): the ONNX
/// graph, <c>genai_config.json</c> and a byte-level BPE tokenizer (<c>tokenizer.json</c>,
/// <c>tokenizer_config.json</c> with a chat template). Its next-token logits are known exactly
/// (<see cref="DesignedLogits"/>), which makes it a test and benchmark model for the adapter.
/// </summary>
/// <remarks>
/// <para><b>The graph.</b> For the token <c>x</c> at position <c>p</c> (the runtime's <c>position_ids</c>),
/// <c>logits = (E[x] + Q[p]) · W + S · u</c>, where <c>E</c> (<c>V × 16</c>) and <c>Q</c> (<c>L × 16</c>) are embeddings,
/// <c>W</c> (<c>16 × V</c>) the output projection, <c>u</c> a per-token history weight, and <c>S</c> the sum of a small
/// per-token key <c>k[t] ∈ {0,1,2,3}</c> over every token of the sequence so far. The keys live in the KV cache
/// (<c>past_key_values.0.key/value</c>, shape <c>[batch, 1, past, 1]</c>, concatenated with the new tokens' keys into
/// <c>present.0.key/value</c>), so the logits depend on the whole history through the cache exactly as a real
/// decoder's do: a runtime that dropped or duplicated cache entries would produce different logits.</para>
/// <para><b>Exactness.</b> Every weight is a small multiple of a power of two (<c>E</c>, <c>Q</c>, <c>W</c> in steps
/// of 1/8, <c>u</c> in steps of 1/1024) and the sums stay far below 2^24 steps, so float32 arithmetic in any order
/// gives the same, exact value; <see cref="DesignedLogits"/> equals what the runtime computes bit for bit.</para>
/// <para><b>Vocabulary.</b> Ids 0..255 are the 256 bytes (GPT-2's byte-to-character mapping), 256 is
/// <c>&lt;|endoftext|&gt;</c> (BOS, EOS), 257..259 are <c>&lt;|user|&gt;</c>, <c>&lt;|assistant|&gt;</c>,
/// <c>&lt;|end|&gt;</c> (also an EOS), and the rest are merges of lower-case letters and the space, shortest first.
/// The pad id is 0, whose key is 0.</para>
/// </remarks>
public sealed class SyntheticOnnxModel
{
    /// <summary>The smallest vocabulary: 256 bytes and four special tokens.</summary>
    public const int MinimumVocabSize = 260;

    /// <summary>The largest vocabulary.</summary>
    public const int MaximumVocabSize = 262_144;

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c> (BOS and EOS).</summary>
    public const int EndOfTextId = 256;

    /// <summary>The id of <c>&lt;|end|&gt;</c>, which ends a chat turn (also an EOS).</summary>
    public const int EndOfTurnId = 259;

    /// <summary>The width of the embeddings.</summary>
    public const int HiddenSize = 16;

    /// <summary>The file name of the ONNX graph.</summary>
    public const string GraphFileName = "model.onnx";

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz ";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly string[] SpecialTokens = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|end|>"];

    private readonly float[] _embedding;
    private readonly float[] _positions;
    private readonly float[] _output;
    private readonly float[] _history;
    private readonly long[] _keys;

    private SyntheticOnnxModel(SyntheticOnnxModelOptions options)
    {
        VocabSize = options.VocabSize;
        ContextLength = options.ContextLength;
        Float16Logits = options.Float16Logits;
        var random = new Random(options.Seed);
        _embedding = Steps(random, VocabSize * HiddenSize, 8, 1f / 8);
        _positions = Steps(random, ContextLength * HiddenSize, 8, 1f / 8);
        _output = Steps(random, HiddenSize * VocabSize, 8, 1f / 8);
        _history = Steps(random, VocabSize, 64, 1f / 1024);
        _keys = new long[VocabSize];
        for (int i = 1; i < _keys.Length; i++)
        {
            _keys[i] = random.Next(4);
        }
    }

    /// <summary>The vocabulary size.</summary>
    public int VocabSize { get; }

    /// <summary>The context length.</summary>
    public int ContextLength { get; }

    /// <summary>Whether the graph outputs float16 logits (<see cref="DesignedLogits"/> then rounds to float16 too).</summary>
    public bool Float16Logits { get; }

    /// <summary>Creates the model's weights.</summary>
    /// <param name="options">Shape and seed; null for the defaults.</param>
    /// <returns>The model.</returns>
    public static SyntheticOnnxModel Create(SyntheticOnnxModelOptions? options = null) => new(options ?? new SyntheticOnnxModelOptions());

    /// <summary>Writes a model into a new temporary folder.</summary>
    /// <param name="options">Shape and seed; null for the defaults.</param>
    /// <returns>The folder (the caller deletes it).</returns>
    public static string WriteTemporary(SyntheticOnnxModelOptions? options = null)
    {
        string folder = Path.Combine(Path.GetTempPath(), "logits-onnx-" + Guid.NewGuid().ToString("N"));
        Create(options).Write(folder);
        return folder;
    }

    /// <summary>Writes the model folder ONNX Runtime GenAI loads: <c>model.onnx</c>, <c>genai_config.json</c>,
    /// <c>tokenizer.json</c> and <c>tokenizer_config.json</c>.</summary>
    /// <param name="folder">The folder; created if missing, files in it replaced.</param>
    public void Write(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, GraphFileName), GraphBytes());
        File.WriteAllText(Path.Combine(folder, "genai_config.json"), GenAIConfig());
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), TokenizerJson());
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), TokenizerConfig());
    }

    /// <summary>The exact next-token logits after <paramref name="context"/> (the runtime's last-token logits; rounded
    /// to float16 when <see cref="Float16Logits"/> is set).</summary>
    /// <param name="context">The sequence so far (at least one token, at most <see cref="ContextLength"/>).</param>
    /// <param name="destination">Receives <see cref="VocabSize"/> logits.</param>
    /// <exception cref="ArgumentException">The context is empty, too long or holds an id outside the vocabulary, or
    /// the destination has the wrong length.</exception>
    public void DesignedLogits(ReadOnlySpan<int> context, Span<float> destination)
    {
        if (context.IsEmpty || context.Length > ContextLength)
        {
            throw new ArgumentException($"The context must hold 1..{ContextLength} tokens; it holds {context.Length}.", nameof(context));
        }

        if (destination.Length != VocabSize)
        {
            throw new ArgumentException($"The destination must hold {VocabSize} logits; it holds {destination.Length}.", nameof(destination));
        }

        long keySum = 0;
        foreach (int id in context)
        {
            if ((uint)id >= (uint)VocabSize)
            {
                throw new ArgumentException($"Token id {id} is outside the vocabulary [0, {VocabSize}).", nameof(context));
            }

            keySum += _keys[id];
        }

        int last = context[^1];
        int position = context.Length - 1;
        Span<double> hidden = stackalloc double[HiddenSize];
        for (int j = 0; j < HiddenSize; j++)
        {
            hidden[j] = _embedding[(last * HiddenSize) + j] + (double)_positions[(position * HiddenSize) + j];
        }

        for (int v = 0; v < VocabSize; v++)
        {
            double sum = keySum * (double)_history[v];
            for (int j = 0; j < HiddenSize; j++)
            {
                sum += hidden[j] * _output[(j * VocabSize) + v];
            }

            destination[v] = Float16Logits ? (float)(Half)(float)sum : (float)sum;
        }
    }

    /// <summary>The text of token <paramref name="id"/> (the byte-level form is decoded to UTF-8 bytes as text).</summary>
    /// <param name="id">A token id.</param>
    /// <returns>The token's piece as in <c>tokenizer.json</c> (byte-level characters).</returns>
    public string Piece(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, VocabSize);
        return Pieces()[id];
    }

    internal byte[] GraphBytes()
    {
        var graph = new OnnxGraphBuilder("logits_synthetic_decoder");
        graph.Input("input_ids", OnnxGraphBuilder.Int64, "batch_size", "sequence_length");
        graph.Input("attention_mask", OnnxGraphBuilder.Int64, "batch_size", "total_sequence_length");
        graph.Input("position_ids", OnnxGraphBuilder.Int64, "batch_size", "sequence_length");
        graph.Input("past_key_values.0.key", OnnxGraphBuilder.Float32, "batch_size", 1L, "past_sequence_length", 1L);
        graph.Input("past_key_values.0.value", OnnxGraphBuilder.Float32, "batch_size", 1L, "past_sequence_length", 1L);
        graph.Output("logits", Float16Logits ? OnnxGraphBuilder.Float16 : OnnxGraphBuilder.Float32, "batch_size", "sequence_length", (long)VocabSize);
        graph.Output("present.0.key", OnnxGraphBuilder.Float32, "batch_size", 1L, "total_sequence_length", 1L);
        graph.Output("present.0.value", OnnxGraphBuilder.Float32, "batch_size", 1L, "total_sequence_length", 1L);

        var keys = new float[VocabSize];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = _keys[i];
        }

        graph.Initializer("embedding", [VocabSize, HiddenSize], _embedding);
        graph.Initializer("positions", [ContextLength, HiddenSize], _positions);
        graph.Initializer("output", [HiddenSize, VocabSize], _output);
        graph.Initializer("history", [VocabSize], _history);
        graph.Initializer("keys", [VocabSize], keys);
        graph.Initializer("axes_kv", [2], [1L, 3L]);
        graph.Initializer("axes_seq", [1], [2L]);

        // logits = (E[x] + Q[p]) W + S u, S = sum of the keys in the cache and the new tokens.
        graph.Node("Gather", ["embedding", "input_ids"], ["token_hidden"]);
        graph.Node("Gather", ["positions", "position_ids"], ["position_hidden"]);
        graph.Node("Add", ["token_hidden", "position_hidden"], ["hidden"]);
        graph.Node("MatMul", ["hidden", "output"], ["local_logits"]);
        graph.Node("Gather", ["keys", "input_ids"], ["new_keys"]);
        graph.Node("Unsqueeze", ["new_keys", "axes_kv"], ["new_cache"]);
        graph.Node("Concat", ["past_key_values.0.key", "new_cache"], ["present.0.key"], ("axis", 2));
        graph.Node("Concat", ["past_key_values.0.value", "new_cache"], ["present.0.value"], ("axis", 2));
        graph.Node("ReduceSum", ["present.0.key", "axes_seq"], ["key_sum"], ("keepdims", 0));
        graph.Node("Mul", ["key_sum", "history"], ["history_logits"]);
        if (Float16Logits)
        {
            graph.Node("Add", ["local_logits", "history_logits"], ["logits_float32"]);
            graph.Node("Cast", ["logits_float32"], ["logits"], ("to", OnnxGraphBuilder.Float16));
        }
        else
        {
            graph.Node("Add", ["local_logits", "history_logits"], ["logits"]);
        }

        return graph.ToModelBytes("Logits.OnnxRuntimeGenAI");
    }

    private string GenAIConfig()
    {
        var config = new
        {
            model = new
            {
                type = "llama",
                bos_token_id = EndOfTextId,
                eos_token_id = new[] { EndOfTextId, EndOfTurnId },
                pad_token_id = 0,
                vocab_size = VocabSize,
                context_length = ContextLength,
                decoder = new
                {
                    session_options = new { log_id = "logits-synthetic", provider_options = Array.Empty<object>() },
                    filename = GraphFileName,
                    head_size = 1,
                    hidden_size = HiddenSize,
                    num_attention_heads = 1,
                    num_key_value_heads = 1,
                    num_hidden_layers = 1,
                    inputs = new Dictionary<string, string>
                    {
                        ["input_ids"] = "input_ids",
                        ["attention_mask"] = "attention_mask",
                        ["position_ids"] = "position_ids",
                        ["past_key_names"] = "past_key_values.%d.key",
                        ["past_value_names"] = "past_key_values.%d.value",
                    },
                    outputs = new Dictionary<string, string>
                    {
                        ["logits"] = "logits",
                        ["present_key_names"] = "present.%d.key",
                        ["present_value_names"] = "present.%d.value",
                    },
                },
            },
            search = new { max_length = ContextLength, do_sample = false, num_beams = 1 },
        };
        return JsonSerializer.Serialize(config, Indented);
    }

    private string TokenizerJson()
    {
        var pieces = Pieces();
        var vocab = new Dictionary<string, int>(pieces.Count);
        for (int i = 0; i < pieces.Count; i++)
        {
            if (i < EndOfTextId || i >= MinimumVocabSize)
            {
                vocab[pieces[i]] = i;
            }
        }

        // A merge joins a token with one more character: "ab c" makes "abc".
        var merges = new List<string>();
        for (int i = MinimumVocabSize; i < pieces.Count; i++)
        {
            string piece = pieces[i];
            merges.Add(piece[..^1] + " " + piece[^1]);
        }

        var added = new List<object>();
        for (int i = 0; i < SpecialTokens.Length; i++)
        {
            added.Add(new { id = EndOfTextId + i, content = SpecialTokens[i], single_word = false, lstrip = false, rstrip = false, normalized = false, special = true });
        }

        var tokenizer = new
        {
            version = "1.0",
            truncation = (object?)null,
            padding = (object?)null,
            added_tokens = added,
            normalizer = (object?)null,
            pre_tokenizer = new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true, use_regex = true },
            post_processor = (object?)null,
            decoder = new { type = "ByteLevel", add_prefix_space = true, trim_offsets = true, use_regex = true },
            model = new
            {
                type = "BPE",
                dropout = (object?)null,
                unk_token = (object?)null,
                continuing_subword_prefix = string.Empty,
                end_of_word_suffix = string.Empty,
                fuse_unk = false,
                byte_fallback = false,
                vocab,
                merges,
            },
        };
        return JsonSerializer.Serialize(tokenizer);
    }

    private static string TokenizerConfig()
    {
        var config = new Dictionary<string, object>
        {
            ["tokenizer_class"] = "GPT2Tokenizer",
            ["bos_token"] = SpecialTokens[0],
            ["eos_token"] = SpecialTokens[0],
            ["unk_token"] = SpecialTokens[0],
            ["add_bos_token"] = false,
            ["add_prefix_space"] = false,
            ["model_max_length"] = 4096,
            ["chat_template"] = "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
        };
        return JsonSerializer.Serialize(config, Indented);
    }

    private List<string> Pieces()
    {
        var byteToChar = ByteLevelCharacters();
        var pieces = new List<string>(VocabSize);
        for (int b = 0; b < 256; b++)
        {
            pieces.Add(byteToChar[b].ToString());
        }

        pieces.AddRange(SpecialTokens);
        var alphabet = new string[Alphabet.Length];
        for (int i = 0; i < Alphabet.Length; i++)
        {
            alphabet[i] = byteToChar[Alphabet[i]].ToString();
        }

        // Merged tokens: every string over the alphabet of length 2, then 3, ..., until the vocabulary is full.
        var level = new List<string>(alphabet);
        while (pieces.Count < VocabSize)
        {
            var next = new List<string>(level.Count * alphabet.Length);
            foreach (string prefix in level)
            {
                foreach (string c in alphabet)
                {
                    next.Add(prefix + c);
                    if (pieces.Count + next.Count == VocabSize)
                    {
                        break;
                    }
                }

                if (pieces.Count + next.Count == VocabSize)
                {
                    break;
                }
            }

            pieces.AddRange(next);
            level = next;
        }

        return pieces;
    }

    // GPT-2's byte-level mapping: printable bytes stand for themselves, the others are moved to U+0100 and up.
    private static char[] ByteLevelCharacters()
    {
        var map = new char[256];
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }

        return map;
    }

    private static float[] Steps(Random random, int count, int maxSteps, float step)
    {
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.Next(-maxSteps, maxSteps + 1) * step;
        }

        return values;
    }
}
