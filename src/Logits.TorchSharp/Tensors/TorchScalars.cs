
namespace Logits.TorchSharp.Tensors;

/// <summary>
/// Tensor arithmetic with a number, written so that the <see cref="Scalar"/> libtorch reads stays referenced until
/// the native call has returned.
/// </summary>
/// <remarks>
/// A TorchSharp <see cref="Scalar"/> owns a native value and frees it from its finalizer. The implicit conversions
/// (<c>tensor * 0.5</c>, <c>masked_fill(mask, double.NegativeInfinity)</c>) and some TorchSharp members themselves
/// (<c>a + b</c> is <c>add(b, alpha: 1)</c>, <c>square()</c> is <c>pow(2)</c>, <c>arange(n)</c>) make a Scalar that
/// nothing references once its handle has been read, so a collection on another thread can free it while libtorch
/// is still reading it (dotnet/TorchSharp#1434; one CI run failed in <c>at::native::div</c> with "Unknown scalar type").
/// Every helper here either uses a process-lifetime Scalar held by a static field, or creates one in a
/// <c>using</c> declaration, whose <c>Dispose</c> after the call keeps it alive across it. The test
/// <c>ScalarLifetimeTests</c> checks that the repository's code makes no other kind of Scalar.
/// </remarks>
internal static class TorchScalars
{
    // Static fields reference these for the life of the process: they are never finalized.
    internal static readonly Scalar One = 1.ToScalar();
    internal static readonly Scalar Two = 2.ToScalar();
    internal static readonly Scalar Zero = 0.ToScalar();
    internal static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();
    internal static readonly Scalar PositiveInfinity = float.PositiveInfinity.ToScalar();

    /// <summary><c>x + y</c> (TorchSharp's <c>x + y</c> makes its <c>alpha = 1</c> Scalar unheld).</summary>
    internal static Tensor Plus(this Tensor x, Tensor y) => x.add(y, One);

    /// <summary><c>x += y</c> in place.</summary>
    internal static Tensor PlusInPlace(this Tensor x, Tensor y) => x.add_(y, One);

    /// <summary><c>x += factor · y</c> in place.</summary>
    internal static Tensor PlusInPlace(this Tensor x, Tensor y, double factor)
    {
        using var alpha = factor.ToScalar();
        return x.add_(y, alpha);
    }

    /// <summary><c>x + value</c>.</summary>
    internal static Tensor Plus(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.add(scalar, One);
    }

    /// <summary><c>x += value</c> in place.</summary>
    internal static Tensor PlusInPlace(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.add_(scalar, One);
    }

    /// <summary><c>x - value</c>.</summary>
    internal static Tensor Minus(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.sub(scalar);
    }

    /// <summary><c>value - x</c>.</summary>
    internal static Tensor SubtractedFrom(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.neg().add_(scalar, One);
    }

    /// <summary><c>x · factor</c>.</summary>
    internal static Tensor Times(this Tensor x, double factor)
    {
        using var scalar = factor.ToScalar();
        return x.mul(scalar);
    }

    /// <summary><c>x ·= factor</c> in place.</summary>
    internal static Tensor TimesInPlace(this Tensor x, double factor)
    {
        using var scalar = factor.ToScalar();
        return x.mul_(scalar);
    }

    /// <summary><c>x / divisor</c>.</summary>
    internal static Tensor DividedBy(this Tensor x, double divisor)
    {
        using var scalar = divisor.ToScalar();
        return x.div(scalar);
    }

    /// <summary><c>x²</c> (TorchSharp's <c>square()</c> is <c>pow(2)</c> with an unheld 2).</summary>
    internal static Tensor Squared(this Tensor x) => x.pow(Two);

    /// <summary><c>x^exponent</c>.</summary>
    internal static Tensor Power(this Tensor x, double exponent)
    {
        using var scalar = exponent.ToScalar();
        return x.pow(scalar);
    }

    /// <summary><c>where(mask, value, x)</c>.</summary>
    internal static Tensor FilledWhere(this Tensor x, Tensor mask, double value)
    {
        using var scalar = value.ToScalar();
        return x.masked_fill(mask, scalar);
    }

    /// <summary><c>where(mask, value, x)</c> for an integer value (token ids).</summary>
    internal static Tensor FilledWhere(this Tensor x, Tensor mask, long value)
    {
        using var scalar = value.ToScalar();
        return x.masked_fill(mask, scalar);
    }

    /// <summary><c>where(mask, value, x)</c> in place.</summary>
    internal static Tensor FillWhereInPlace(this Tensor x, Tensor mask, double value)
    {
        using var scalar = value.ToScalar();
        return x.masked_fill_(mask, scalar);
    }

    /// <summary>Sets every element of <paramref name="x"/> to <paramref name="value"/>.</summary>
    internal static Tensor FillInPlace(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.fill_(scalar);
    }

    /// <summary><c>max(x, min)</c>.</summary>
    internal static Tensor AtLeast(this Tensor x, double min)
    {
        using var scalar = min.ToScalar();
        return x.clamp_min(scalar);
    }

    /// <summary><c>min(x, max)</c>.</summary>
    internal static Tensor AtMost(this Tensor x, double max)
    {
        using var scalar = max.ToScalar();
        return x.clamp_max(scalar);
    }

    /// <summary><c>min(max(x, min), max)</c>.</summary>
    internal static Tensor ClampedTo(this Tensor x, double min, double max)
    {
        using var low = min.ToScalar();
        using var high = max.ToScalar();
        return x.clamp(low, high);
    }

    /// <summary><c>x &gt; value</c>.</summary>
    internal static Tensor Above(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.gt(scalar);
    }

    /// <summary><c>x ≥ value</c>.</summary>
    internal static Tensor AtOrAbove(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.ge(scalar);
    }

    /// <summary><c>x == value</c>.</summary>
    internal static Tensor EqualTo(this Tensor x, double value)
    {
        using var scalar = value.ToScalar();
        return x.eq(scalar);
    }

    /// <summary><c>[start, start + 1, ..., stop - 1]</c> (TorchSharp's <c>arange(stop)</c> makes its start and step unheld).</summary>
    internal static Tensor Range(long start, long stop, ScalarType? dtype = null, Device? device = null)
    {
        using var first = start.ToScalar();
        using var end = stop.ToScalar();
        return arange(first, end, One, dtype, device);
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    internal static Tensor Filled(long[] shape, double value, ScalarType? dtype = null, Device? device = null)
    {
        using var scalar = value.ToScalar();
        return full(shape, scalar, dtype, device);
    }
}
