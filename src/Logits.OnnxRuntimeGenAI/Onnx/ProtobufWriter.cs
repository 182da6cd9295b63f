using System.Buffers.Binary;
using System.Buffers;
using System.Text;

namespace Logits.OnnxRuntimeGenAI.Onnx;

/// <summary>
/// The few protocol-buffers encodings an ONNX file needs (varint, fixed 32-bit, length-delimited), so the package
/// writes its test and synthetic models without a protobuf dependency.
/// </summary>
/// <remarks>Wire format: each field is a tag <c>(field &lt;&lt; 3) | wireType</c> as a varint, then the value: wire
/// type 0 a varint (negative <c>int64</c> as ten bytes of two's complement), 2 a varint length and that many bytes,
/// 5 four little-endian bytes. Nested messages are written into their own writer and copied in as bytes.</remarks>
internal sealed class ProtobufWriter
{
    private const int VarintWireType = 0;
    private const int LengthDelimitedWireType = 2;
    private const int Fixed32WireType = 5;

    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>Writes an <c>int64</c>, <c>int32</c> or enum field.</summary>
    public ProtobufWriter Int64(int field, long value)
    {
        Tag(field, VarintWireType);
        Varint(unchecked((ulong)value));
        return this;
    }

    /// <summary>Writes a <c>float</c> field.</summary>
    public ProtobufWriter Float(int field, float value)
    {
        Tag(field, Fixed32WireType);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    /// <summary>Writes a UTF-8 <c>string</c> field.</summary>
    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a nested message field.</summary>
    public ProtobufWriter Message(int field, ProtobufWriter message) => Bytes(field, message.ToArray());

    /// <summary>Writes a <c>bytes</c> field.</summary>
    public ProtobufWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimitedWireType);
        Varint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>Writes a packed repeated <c>int64</c> field.</summary>
    public ProtobufWriter PackedInt64(int field, ReadOnlySpan<long> values)
    {
        var packed = new ProtobufWriter();
        foreach (long value in values)
        {
            packed.Varint(unchecked((ulong)value));
        }

        return Bytes(field, packed.ToArray());
    }

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        WriteByte((byte)value);
    }

    private void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }
}
