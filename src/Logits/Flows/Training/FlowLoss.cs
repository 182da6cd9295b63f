
namespace Logits.Flows.Training;

/// <summary>How the squared-error flow loss reduces over the d elements of one sample.</summary>
public enum FlowLossReduction
{
    /// <summary>Mean over elements (the official Rectified Flow code; default).</summary>
    MeanOverElements,

    /// <summary>Sum over elements: the paper's <c>‖u − v_θ‖²</c>.</summary>
    SumOverElements,
}

/// <summary>The squared-error velocity regression loss (docs/algorithms/flows.md#loss), evaluated per sample on the host.</summary>
/// <remarks>
/// <c>L = E_t E_{(x0,x1)} ‖u − v_θ(x_t, t)‖²</c>. Rows are read with <see cref="LogitBatch.CopyRowTo"/> into a pooled
/// buffer and accumulated in float64. This is the evaluation form; training with gradients uses the torch loss of
/// <c>Logits.TorchSharp.Flows</c>.
/// </remarks>
public static class FlowLoss
{
    /// <summary>Per-sample squared error between a prediction and a target velocity.</summary>
    /// <param name="prediction">The predicted velocities, <c>[samples, d]</c>.</param>
    /// <param name="target">The target velocities, same shape.</param>
    /// <param name="destination">One loss per row.</param>
    /// <param name="reduction">Mean (default) or sum over the d elements.</param>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ or <paramref name="destination"/> is not one per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduction"/> is not defined.</exception>
    public static void SquaredError(LogitBatch prediction, LogitBatch target, Span<double> destination, FlowLossReduction reduction = FlowLossReduction.MeanOverElements)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        prediction.EnsureSameShape(target, nameof(target));
        FlowChecks.PerRow(destination.Length, prediction.Rows, nameof(destination));
        Require.Defined(reduction, nameof(reduction));

        int d = prediction.Vocab;
        float[] a = ArrayPool<float>.Shared.Rent(d);
        float[] b = ArrayPool<float>.Shared.Rent(d);
        try
        {
            for (int r = 0; r < prediction.Rows; r++)
            {
                prediction.CopyRowTo(r, a);
                target.CopyRowTo(r, b);
                double sum = 0;
                for (int i = 0; i < d; i++)
                {
                    double diff = (double)a[i] - b[i];
                    sum += diff * diff;
                }

                destination[r] = reduction == FlowLossReduction.SumOverElements ? sum : sum / d;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
        }
    }

    /// <summary>Reads row <paramref name="row"/> of <c>a − b</c> into <paramref name="residual"/> in float64.</summary>
    internal static void Residual(LogitBatch a, LogitBatch b, int row, float[] bufferA, float[] bufferB, Span<double> residual)
    {
        a.CopyRowTo(row, bufferA);
        b.CopyRowTo(row, bufferB);
        for (int i = 0; i < residual.Length; i++)
        {
            residual[i] = (double)bufferA[i] - bufferB[i];
        }
    }
}
