using System.Runtime.InteropServices;

namespace Logits.OnnxRuntimeGenAI.Onnx;

/// <summary>
/// Builds an ONNX <c>ModelProto</c> (one graph of standard-domain operators, float32 and int64 tensors) and
/// serializes it with <see cref="ProtobufWriter"/>.
/// </summary>
/// <remarks>Field numbers are those of the ONNX schema (<c>onnx.proto</c>): ModelProto ir_version 1, producer_name 2,
/// graph 7, opset_import 8; GraphProto node 1, name 2, initializer 5, input 11, output 12; NodeProto input 1, output 2,
/// name 3, op_type 4, attribute 5; AttributeProto name 1, i 3, type 20; TensorProto dims 1, data_type 2, name 8,
/// raw_data 9; ValueInfoProto name 1, type 2; TypeProto tensor_type 1; TypeProto.Tensor elem_type 1, shape 2;
/// TensorShapeProto dim 1; Dimension dim_value 1, dim_param 2.</remarks>
internal sealed class OnnxGraphBuilder
{
    /// <summary>ONNX <c>TensorProto.DataType.FLOAT</c>.</summary>
    public const int Float32 = 1;

    /// <summary>ONNX <c>TensorProto.DataType.INT64</c>.</summary>
    public const int Int64 = 7;

    /// <summary>ONNX <c>TensorProto.DataType.FLOAT16</c>.</summary>
    public const int Float16 = 10;

    private const int AttributeTypeInt = 2;
    private readonly List<ProtobufWriter> _nodes = new();
    private readonly List<ProtobufWriter> _initializers = new();
    private readonly List<ProtobufWriter> _inputs = new();
    private readonly List<ProtobufWriter> _outputs = new();
    private readonly string _name;
    private int _nodeCount;

    public OnnxGraphBuilder(string name) => _name = name;

    /// <summary>Declares a graph input; a dimension is a fixed size (<see cref="long"/>) or a symbolic name (<see cref="string"/>).</summary>
    public void Input(string name, int elementType, params object[] dims) => _inputs.Add(ValueInfo(name, elementType, dims));

    /// <summary>Declares a graph output.</summary>
    public void Output(string name, int elementType, params object[] dims) => _outputs.Add(ValueInfo(name, elementType, dims));

    /// <summary>Adds a float32 initializer (a constant weight).</summary>
    public void Initializer(string name, ReadOnlySpan<long> dims, ReadOnlySpan<float> values) =>
        _initializers.Add(Tensor(name, Float32, dims, MemoryMarshal.AsBytes(values)));

    /// <summary>Adds an int64 initializer.</summary>
    public void Initializer(string name, ReadOnlySpan<long> dims, ReadOnlySpan<long> values) =>
        _initializers.Add(Tensor(name, Int64, dims, MemoryMarshal.AsBytes(values)));

    /// <summary>Adds a node of the default (<c>ai.onnx</c>) domain with integer attributes.</summary>
    public void Node(string opType, string[] inputs, string[] outputs, params (string Name, long Value)[] attributes)
    {
        var node = new ProtobufWriter();
        foreach (string input in inputs)
        {
            node.String(1, input);
        }

        foreach (string output in outputs)
        {
            node.String(2, output);
        }

        node.String(3, $"{opType}_{_nodeCount++}").String(4, opType);
        foreach (var (name, value) in attributes)
        {
            node.Message(5, new ProtobufWriter().String(1, name).Int64(3, value).Int64(20, AttributeTypeInt));
        }

        _nodes.Add(node);
    }

    /// <summary>Serializes the model (IR version 8, opset 17).</summary>
    public byte[] ToModelBytes(string producer)
    {
        var graph = new ProtobufWriter();
        foreach (var node in _nodes)
        {
            graph.Message(1, node);
        }

        graph.String(2, _name);
        foreach (var initializer in _initializers)
        {
            graph.Message(5, initializer);
        }

        foreach (var input in _inputs)
        {
            graph.Message(11, input);
        }

        foreach (var output in _outputs)
        {
            graph.Message(12, output);
        }

        return new ProtobufWriter()
            .Int64(1, 8)
            .String(2, producer)
            .Message(7, graph)
            .Message(8, new ProtobufWriter().String(1, string.Empty).Int64(2, 17))
            .ToArray();
    }

    private static ProtobufWriter Tensor(string name, int elementType, ReadOnlySpan<long> dims, ReadOnlySpan<byte> littleEndianData)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this writer runs on little-endian hosts only.");
        }

        return new ProtobufWriter().PackedInt64(1, dims).Int64(2, elementType).String(8, name).Bytes(9, littleEndianData);
    }

    private static ProtobufWriter ValueInfo(string name, int elementType, object[] dims)
    {
        var shape = new ProtobufWriter();
        foreach (object dim in dims)
        {
            shape.Message(1, dim switch
            {
                long size => new ProtobufWriter().Int64(1, size),
                int size => new ProtobufWriter().Int64(1, size),
                string symbol => new ProtobufWriter().String(2, symbol),
                _ => throw new ArgumentException($"A dimension is a size or a symbolic name, not {dim.GetType().Name}.", nameof(dims)),
            });
        }

        var tensorType = new ProtobufWriter().Int64(1, elementType).Message(2, shape);
        return new ProtobufWriter().String(1, name).Message(2, new ProtobufWriter().Message(1, tensorType));
    }
}
