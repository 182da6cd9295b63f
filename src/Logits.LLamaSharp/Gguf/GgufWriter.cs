using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Logits.LLamaSharp.Gguf;

/// <summary>Writes a GGUF version 3 file: metadata key-value pairs followed by F32 tensors.</summary>
/// <remarks>
/// <para>Layout (little-endian, as llama.cpp's <c>gguf.cpp</c> reads it): the magic <c>"GGUF"</c>, the version
/// (<c>uint32</c> 3), the tensor count and the metadata count (<c>uint64</c> each), the metadata (a key string,
/// a <c>uint32</c> value type, the value), the tensor infos (name, dimension count, dimensions as <c>uint64</c>
/// with the fastest-varying first, the type, the data offset), padding to <see cref="Alignment"/>, then the
/// tensor data, each tensor starting at a multiple of <see cref="Alignment"/>. A string is a <c>uint64</c>
/// byte length followed by UTF-8 bytes, without a terminator.</para>
/// <para>Shapes follow ggml's order: <c>shape[0]</c> is the length of a contiguous row. A PyTorch linear weight
/// <c>[out, in]</c> is therefore the ggml shape <c>{in, out}</c> with the same bytes.</para>
/// <para>Tensors are kept by reference until <see cref="Write(Stream)"/>; the caller must not change them in
/// between. Only F32 tensors are written (no quantisation).</para>
/// </remarks>
public sealed class GgufWriter
{
    /// <summary>The data alignment llama.cpp assumes when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>The longest tensor name ggml accepts, in UTF-8 bytes (its buffer holds 64 with the terminator).</summary>
    public const int MaxTensorNameBytes = 63;

    private const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    private const uint Version = 3;

    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = new();
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<(string Name, long[] Shape, ReadOnlyMemory<float> Data)> _tensors = new();
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    /// <summary>Creates a writer.</summary>
    /// <param name="alignment">The data alignment in bytes, a power of two of at least 8 (default 32). Any other
    /// value than 32 is also written as <c>general.alignment</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alignment"/> is not a power of two of at least 8.</exception>
    public GgufWriter(int alignment = DefaultAlignment)
    {
        if (alignment < 8 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two of at least 8.");
        }

        Alignment = alignment;
        if (alignment != DefaultAlignment)
        {
            AddUInt32("general.alignment", (uint)alignment);
        }
    }

    /// <summary>The data alignment in bytes.</summary>
    public int Alignment { get; }

    /// <summary>The number of metadata entries added so far.</summary>
    public int MetadataCount => _metadata.Count;

    /// <summary>The number of tensors added so far.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>Adds a <c>uint32</c> value.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    public void AddUInt32(string key, uint value) => Add(key, GgufValueType.UInt32, value);

    /// <summary>Adds an <c>int32</c> value.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    public void AddInt32(string key, int value) => Add(key, GgufValueType.Int32, value);

    /// <summary>Adds a <c>uint64</c> value.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    public void AddUInt64(string key, ulong value) => Add(key, GgufValueType.UInt64, value);

    /// <summary>Adds a <c>float32</c> value.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    public void AddFloat32(string key, float value) => Add(key, GgufValueType.Float32, value);

    /// <summary>Adds a boolean value.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    public void AddBool(string key, bool value) => Add(key, GgufValueType.Bool, value);

    /// <summary>Adds a string value.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public void AddString(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Add(key, GgufValueType.String, value);
    }

    /// <summary>Adds an array of strings.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="values">The values (copied).</param>
    /// <exception cref="ArgumentException">The key is empty or already present, or a value is null.</exception>
    public void AddStringArray(string key, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = new string[values.Count];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = values[i] ?? throw new ArgumentException($"The value at index {i} is null.", nameof(values));
        }

        Add(key, GgufValueType.Array, new ArrayValue(GgufValueType.String, copy));
    }

    /// <summary>Adds an array of <c>float32</c> values.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="values">The values (copied).</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    public void AddFloat32Array(string key, ReadOnlySpan<float> values) =>
        Add(key, GgufValueType.Array, new ArrayValue(GgufValueType.Float32, values.ToArray()));

    /// <summary>Adds an array of <c>int32</c> values.</summary>
    /// <param name="key">A new, non-empty key.</param>
    /// <param name="values">The values (copied).</param>
    /// <exception cref="ArgumentException">The key is empty or already present.</exception>
    public void AddInt32Array(string key, ReadOnlySpan<int> values) =>
        Add(key, GgufValueType.Array, new ArrayValue(GgufValueType.Int32, values.ToArray()));

    /// <summary>Adds an F32 tensor.</summary>
    /// <param name="name">A new name of 1 to <see cref="MaxTensorNameBytes"/> UTF-8 bytes (e.g. <c>"blk.0.attn_q.weight"</c>).</param>
    /// <param name="data">The values, contiguous with <c>shape[0]</c> varying fastest; kept by reference.</param>
    /// <param name="shape">One to four dimensions in ggml order (the contiguous row length first), each at least 1.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or already present; the shape is invalid;
    /// or the data length is not the product of the dimensions.</exception>
    public void AddTensor(string name, ReadOnlyMemory<float> data, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes == 0 || nameBytes > MaxTensorNameBytes)
        {
            throw new ArgumentException($"The tensor name '{name}' must have 1 to {MaxTensorNameBytes} UTF-8 bytes; it has {nameBytes}.", nameof(name));
        }

        if (!_tensorNames.Add(name))
        {
            throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        }

        if (shape.Length is < 1 or > 4)
        {
            _tensorNames.Remove(name);
            throw new ArgumentException($"Tensor '{name}' has {shape.Length} dimensions; ggml takes 1 to 4.", nameof(shape));
        }

        long count = 1;
        foreach (long dimension in shape)
        {
            if (dimension < 1)
            {
                _tensorNames.Remove(name);
                throw new ArgumentException($"Tensor '{name}' has the dimension {dimension}; every dimension must be at least 1.", nameof(shape));
            }

            count = checked(count * dimension);
        }

        if (count != data.Length)
        {
            _tensorNames.Remove(name);
            throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", shape)}] ({count} values) but {data.Length} values were given.", nameof(data));
        }

        _tensors.Add((name, (long[])shape.Clone(), data));
    }

    /// <summary>Writes the file.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    public void Write(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream);
    }

    /// <summary>Writes the file to a stream (positioned at its start; the stream is left open).</summary>
    /// <param name="stream">A writable stream.</param>
    /// <exception cref="ArgumentException">The stream is not writable.</exception>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream must be writable.", nameof(stream));
        }

        var output = new CountingWriter(stream);
        output.UInt32(Magic);
        output.UInt32(Version);
        output.UInt64((ulong)_tensors.Count);
        output.UInt64((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            output.String(key);
            output.UInt32((uint)type);
            WriteValue(output, type, value);
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, shape, data) = _tensors[i];
            output.String(name);
            output.UInt32((uint)shape.Length);
            foreach (long dimension in shape)
            {
                output.UInt64((ulong)dimension);
            }

            output.UInt32((uint)GgmlType.F32);
            output.UInt64((ulong)offset);
            offsets[i] = offset;
            offset = AlignUp(offset + ((long)data.Length * sizeof(float)));
        }

        output.Pad(Alignment);
        long dataStart = output.Position;
        for (int i = 0; i < _tensors.Count; i++)
        {
            output.Pad(Alignment);
            if (output.Position - dataStart != offsets[i])
            {
                throw new InvalidOperationException($"Tensor '{_tensors[i].Name}' would start at {output.Position - dataStart}, not at its recorded offset {offsets[i]}.");
            }

            output.Floats(_tensors[i].Data.Span);
        }

        output.Pad(Alignment);
        output.Flush();
    }

    private long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private void Add(string key, GgufValueType type, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"The metadata key '{key}' was already added.", nameof(key));
        }

        _metadata.Add((key, type, value));
    }

    private static void WriteValue(CountingWriter output, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt32:
                output.UInt32((uint)value);
                break;
            case GgufValueType.Int32:
                output.UInt32(unchecked((uint)(int)value));
                break;
            case GgufValueType.UInt64:
                output.UInt64((ulong)value);
                break;
            case GgufValueType.Float32:
                output.UInt32(BitConverter.SingleToUInt32Bits((float)value));
                break;
            case GgufValueType.Bool:
                output.Byte((bool)value ? (byte)1 : (byte)0);
                break;
            case GgufValueType.String:
                output.String((string)value);
                break;
            case GgufValueType.Array:
                var array = (ArrayValue)value;
                output.UInt32((uint)array.ElementType);
                switch (array.Values)
                {
                    case string[] strings:
                        output.UInt64((ulong)strings.Length);
                        foreach (string s in strings)
                        {
                            output.String(s);
                        }

                        break;
                    case float[] floats:
                        output.UInt64((ulong)floats.Length);
                        output.Floats(floats);
                        break;
                    case int[] ints:
                        output.UInt64((ulong)ints.Length);
                        output.Bytes(MemoryMarshal.AsBytes(ints.AsSpan()));
                        break;
                    default:
                        throw new InvalidOperationException("Unknown array element kind.");
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown value type {type}.");
        }
    }

    private sealed record ArrayValue(GgufValueType ElementType, Array Values);

    private enum GgmlType : uint
    {
        F32 = 0,
    }

    /// <summary>A little-endian writer that knows its position (the stream may not be seekable).</summary>
    private sealed class CountingWriter
    {
        private readonly Stream _stream;
        private readonly byte[] _scratch = new byte[8];

        public CountingWriter(Stream stream) => _stream = stream;

        public long Position { get; private set; }

        public void Byte(byte value)
        {
            _stream.WriteByte(value);
            Position++;
        }

        public void UInt32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch, value);
            Bytes(_scratch.AsSpan(0, 4));
        }

        public void UInt64(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_scratch, value);
            Bytes(_scratch.AsSpan(0, 8));
        }

        public void String(string value)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            UInt64((ulong)bytes.Length);
            Bytes(bytes);
        }

        public void Floats(ReadOnlySpan<float> values)
        {
            if (BitConverter.IsLittleEndian)
            {
                Bytes(MemoryMarshal.AsBytes(values));
                return;
            }

            foreach (float value in values)
            {
                UInt32(BitConverter.SingleToUInt32Bits(value));
            }
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            _stream.Write(bytes);
            Position += bytes.Length;
        }

        public void Pad(int alignment)
        {
            while (Position % alignment != 0)
            {
                Byte(0);
            }
        }

        public void Flush() => _stream.Flush();
    }
}
