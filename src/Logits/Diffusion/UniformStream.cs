using Logits.Randomness;

namespace Logits.Diffusion;

/// <summary>One sequence's open uniforms: drawn from a stream, or read from pre-drawn values (docs/algorithms/discrete-diffusion.md#randomness).</summary>
internal sealed class UniformStream
{
    private readonly IRandomSource? _source;
    private readonly ReadOnlyMemory<double> _values;
    private readonly string _paramName;
    private int _position;

    public UniformStream(IRandomSource source)
    {
        _source = source;
        _paramName = "streams";
    }

    public UniformStream(ReadOnlyMemory<double> values, string paramName)
    {
        _values = values;
        _paramName = paramName;
    }

    /// <summary>The next uniform in <c>(0, 1)</c>.</summary>
    public double Next()
    {
        if (_source is not null)
        {
            return _source.NextOpenDouble();
        }

        if (_position >= _values.Length)
        {
            ThrowHelper.ThrowArgument(_paramName, $"ran out of pre-drawn uniforms after {_values.Length} values.");
        }

        double u = _values.Span[_position++];
        if (!(u > 0.0 && u < 1.0))
        {
            ThrowHelper.ThrowArgumentOutOfRange(_paramName, u, "must hold uniforms in the open interval (0, 1)");
        }

        return u;
    }

    public static UniformStream[] FromSeed(ulong seed, int sequences)
    {
        var result = new UniformStream[sequences];
        for (int b = 0; b < sequences; b++)
        {
            result[b] = new UniformStream(Xoshiro256StarStar.ForRow(seed, b));
        }

        return result;
    }

    public static UniformStream[] FromSources(System.Collections.Generic.IReadOnlyList<IRandomSource> streams, int sequences)
    {
        ArgumentNullException.ThrowIfNull(streams);
        if (streams.Count != sequences)
        {
            ThrowHelper.ThrowArgument(nameof(streams), $"has {streams.Count} streams but {sequences} sequences are sampled.");
        }

        var result = new UniformStream[sequences];
        for (int b = 0; b < sequences; b++)
        {
            ArgumentNullException.ThrowIfNull(streams[b], nameof(streams));
            result[b] = new UniformStream(streams[b]);
        }

        return result;
    }

    public static UniformStream[] FromValues(System.Collections.Generic.IReadOnlyList<ReadOnlyMemory<double>> uniforms, int sequences)
    {
        ArgumentNullException.ThrowIfNull(uniforms);
        if (uniforms.Count != sequences)
        {
            ThrowHelper.ThrowArgument(nameof(uniforms), $"has {uniforms.Count} spans but {sequences} sequences are sampled.");
        }

        var result = new UniformStream[sequences];
        for (int b = 0; b < sequences; b++)
        {
            result[b] = new UniformStream(uniforms[b], nameof(uniforms));
        }

        return result;
    }
}
