using Logits.Processing;

namespace Logits.Optimization;

/// <summary>
/// Common losses in target (logit) space with their gradients <c>G = ∇_z h(z)</c>, in float64: the expensive quantity
/// that target-based surrogates reuse for several cheap parameter steps.
/// </summary>
/// <remarks>
/// <para>Targets are row-major <c>[N, K]</c>. With <see cref="SurrogateReduction.Sum"/>:</para>
/// <code>
/// squared error         h = Σ_i ½‖z_i − y_i‖²             G = Z − Y
/// binary logistic (K=1) h = Σ_i softplus(−y_i·z_i)         G_i = −y_i·σ(−y_i·z_i),   y_i ∈ {−1, +1}
/// softmax CE            h = Σ_i −ln softmax(z_i)[y_i]      G = softmax(Z) − onehot(Y)   (row-wise, max-shifted)
/// </code>
/// <para><see cref="SurrogateReduction.Mean"/> divides h and G by N. Every target must be finite
/// (<see cref="ArgumentException"/>): a surrogate step is a regression onto them. The <c>gradient</c> span may be
/// empty, when only the value is wanted.</para>
/// </remarks>
public static class TargetLoss
{
    /// <summary>The squared error <c>Σ_i ½‖z_i − y_i‖²</c> and its gradient <c>Z − Y</c>.</summary>
    /// <param name="targets">Z, row-major <c>[N, K]</c>, finite.</param>
    /// <param name="expected">Y, same length, finite.</param>
    /// <param name="width">K ≥ 1, dividing the length.</param>
    /// <param name="reduction">Sum or mean over the N rows.</param>
    /// <param name="gradient">Empty, or receives G (same length as Z).</param>
    /// <returns>h(Z).</returns>
    /// <exception cref="ArgumentException">Lengths do not fit or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> or <paramref name="reduction"/> is invalid.</exception>
    public static double SquaredError(ReadOnlySpan<double> targets, ReadOnlySpan<double> expected, int width, SurrogateReduction reduction = SurrogateReduction.Sum, Span<double> gradient = default)
    {
        int rows = CheckTargets(targets, width, reduction, gradient);
        if (expected.Length != targets.Length)
        {
            ThrowHelper.ThrowArgument(nameof(expected), $"has {expected.Length} values but the targets have {targets.Length}.");
        }

        Require.AllFinite(expected, nameof(expected));
        double scale = Scale(reduction, rows);
        double total = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            double r = targets[i] - expected[i];
            total += r * r;
            if (!gradient.IsEmpty)
            {
                gradient[i] = scale * r;
            }
        }

        return 0.5 * total * scale;
    }

    /// <summary>The binary logistic loss <c>Σ_i softplus(−y_i·z_i)</c> and its gradient <c>−y_i·σ(−y_i·z_i)</c> (K = 1).</summary>
    /// <param name="targets">z, N finite logits.</param>
    /// <param name="labels">N labels, each −1 or +1.</param>
    /// <param name="reduction">Sum or mean over the N rows.</param>
    /// <param name="gradient">Empty, or receives G (N values).</param>
    /// <returns>h(z).</returns>
    /// <exception cref="ArgumentException">Lengths do not fit, a label is not ±1 or a target is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduction"/> is invalid.</exception>
    public static double BinaryLogistic(ReadOnlySpan<double> targets, ReadOnlySpan<int> labels, SurrogateReduction reduction = SurrogateReduction.Sum, Span<double> gradient = default)
    {
        int rows = CheckTargets(targets, 1, reduction, gradient);
        if (labels.Length != rows)
        {
            ThrowHelper.ThrowArgument(nameof(labels), $"has {labels.Length} labels but there are {rows} targets.");
        }

        double scale = Scale(reduction, rows);
        double total = 0;
        for (int i = 0; i < rows; i++)
        {
            int y = labels[i];
            if (y is not (1 or -1))
            {
                ThrowHelper.ThrowArgument(nameof(labels), $"holds {y} at index {i}; labels must be exactly -1 or +1.");
            }

            double margin = y * targets[i];
            total += LogisticMath.Softplus(-margin);
            if (!gradient.IsEmpty)
            {
                gradient[i] = -y * LogisticMath.SigmoidOfNegative(margin) * scale;
            }
        }

        return total * scale;
    }

    /// <summary>Softmax cross-entropy <c>Σ_i −ln softmax(z_i)[y_i]</c> and its gradient <c>softmax(Z) − onehot(Y)</c>.</summary>
    /// <param name="targets">Z, row-major <c>[N, K]</c>, finite.</param>
    /// <param name="labels">N labels in <c>[0, K)</c>.</param>
    /// <param name="classes">K ≥ 1, dividing the length.</param>
    /// <param name="reduction">Sum or mean over the N rows.</param>
    /// <param name="gradient">Empty, or receives G (same length as Z).</param>
    /// <returns>h(Z).</returns>
    /// <exception cref="ArgumentException">Lengths do not fit or a target is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/>, <paramref name="reduction"/> or a label is invalid.</exception>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<double> targets, ReadOnlySpan<int> labels, int classes, SurrogateReduction reduction = SurrogateReduction.Sum, Span<double> gradient = default)
    {
        int rows = CheckTargets(targets, classes, reduction, gradient);
        if (labels.Length != rows)
        {
            ThrowHelper.ThrowArgument(nameof(labels), $"has {labels.Length} labels but there are {rows} rows.");
        }

        double scale = Scale(reduction, rows);
        double total = 0;
        for (int i = 0; i < rows; i++)
        {
            int y = labels[i];
            if ((uint)y >= (uint)classes)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(labels), y, $"must hold labels in [0, {classes}) (row {i})");
            }

            var z = targets.Slice(i * classes, classes);
            var (max, sum) = HostRowMath.MaxAndShiftedSumExp(z);
            double logZ = max + Math.Log(sum);
            total += logZ - z[y];
            if (!gradient.IsEmpty)
            {
                var g = gradient.Slice(i * classes, classes);
                for (int k = 0; k < classes; k++)
                {
                    g[k] = (Math.Exp(z[k] - logZ) - (k == y ? 1 : 0)) * scale;
                }
            }
        }

        return total * scale;
    }

    internal static void CheckReduction(SurrogateReduction reduction)
    {
        if (!Enum.IsDefined(reduction))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(reduction), reduction, "must be Sum or Mean");
        }
    }

    private static double Scale(SurrogateReduction reduction, int rows) => reduction == SurrogateReduction.Mean ? 1.0 / rows : 1.0;

    private static int CheckTargets(ReadOnlySpan<double> targets, int width, SurrogateReduction reduction, Span<double> gradient)
    {
        CheckReduction(reduction);
        Require.AtLeast(width, 1, nameof(width));

        if (targets.IsEmpty || targets.Length % width != 0)
        {
            ThrowHelper.ThrowArgument(nameof(targets), $"has {targets.Length} values, which is not a positive multiple of the width {width}.");
        }

        if (!gradient.IsEmpty && gradient.Length < targets.Length)
        {
            ThrowHelper.ThrowArgument(nameof(gradient), $"has {gradient.Length} elements but {targets.Length} are required.");
        }

        Require.AllFinite(targets, nameof(targets));
        return targets.Length / width;
    }
}
