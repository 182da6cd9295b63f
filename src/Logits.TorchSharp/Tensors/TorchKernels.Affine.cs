
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Computed in float32 as <c>(a·x + b·y) + c·z</c> into a temporary. A zero coefficient skips its term
    /// entirely, <paramref name="a"/> included (so <c>0·(-∞)</c> never makes NaN; all three zero gives zeros).
    /// Any non-null batch must match <paramref name="x"/>'s shape and device, even when its term is skipped.
    /// A NaN or <c>+∞</c> in a used input throws with stage <c>"input"</c>; one the combination makes (<c>∞ - ∞</c>,
    /// overflow, <c>-∞</c> times a negative coefficient) with stage <c>"affine"</c>; the destination is then unchanged.
    /// </remarks>
    public void Affine(float a, LogitBatch x, float b, LogitBatch? y, float c, LogitBatch? z, LogitBatch destination)
    {
        RequireFinite(a, nameof(a));
        RequireFinite(b, nameof(b));
        RequireFinite(c, nameof(c));
        var first = RequireTorch(x, nameof(x));
        if (b != 0)
        {
            ArgumentNullException.ThrowIfNull(y);
        }

        if (c != 0)
        {
            ArgumentNullException.ThrowIfNull(z);
        }

        var second = y is null ? null : RequireLike(first, y, nameof(y));
        var third = z is null ? null : RequireLike(first, z, nameof(z));
        var output = RequireLike(first, destination, nameof(destination));

        // The eager check below reads; deferred checks of the inputs come first (free when there are none).
        first.ResolvePending();
        second?.ResolvePending();
        third?.ResolvePending();
        output.ResolvePending();

        output.ForgetRowFacts();
        using var scope = NewDisposeScope();
        var result = a != 0 ? first.Values.Times(a) : zeros_like(first.Values);
        if (b != 0)
        {
            result.PlusInPlace(second!.Values, b);
        }

        if (c != 0)
        {
            result.PlusInPlace(third!.Values, c);
        }

        CheckElementwise(result, "affine", a != 0 ? first.Values : null, b != 0 ? second!.Values : null, c != 0 ? third!.Values : null);
        output.Values.copy_(result);
    }

    private static void RequireFinite(float coefficient, string paramName)
    {
        if (!float.IsFinite(coefficient))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, coefficient, "must be finite");
        }
    }
}
