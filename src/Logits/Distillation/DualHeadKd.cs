using System.Numerics;
using Logits.Processing;

namespace Logits.Distillation;

/// <summary>
/// Dual-Head KD's losses as CPU reference functions in float64 with their gradients with respect to the student
/// logits (docs/algorithms/paper-methods.md#losses): BinaryKL-Norm, BinaryKL, Softmax KD, cross-entropy and the combined loss.
/// </summary>
/// <remarks>
/// <para>Source: Yang et al., <i>Dual-Head Knowledge Distillation: Enhancing Logits Utilization with an Auxiliary
/// Head</i>, arXiv 2411.08937 (KDD 2025); official code <c>penghui-yang/DHKD</c>.</para>
/// <para>Logits are row-major <c>[N, C]</c> (or a <see cref="LogitBatch"/> with <c>N</c> rows and <c>C</c> = vocab);
/// token-level callers pass only the valid positions, so <c>N</c> is their count. With <c>Δ = z¹ − z_t</c>:</para>
/// <code>
/// BinaryKL-Norm = (T²/N)·Σ_{n,k} log cosh(Δ/(2T)),   log cosh(u) = |u| + log1p(exp(−2|u|)) − log 2
/// BinaryKL      = (T²/N)·Σ_{n,k} softplus(x_s) − softplus(x_t) − σ(x_t)·(x_s − x_t),   x = z/T
/// SoftmaxKD     = (T_kd²/N)·Σ_n KL(softmax(z_t/T_kd) ‖ softmax(z/T_kd))   (forward KL)
/// CE            = −(1/N)·Σ_n log softmax(z⁰_n)[y_n]
/// </code>
/// <para>BinaryKL-Norm is the official per-class term <c>½ log(½/d) + ½ log(½/(1−d))</c>, <c>d = σ(Δ/T)</c>, rewritten
/// exactly; it is symmetric in the gap, 0 at equal logits and finite for every finite gap. The normalisation (sum over
/// classes, divide by <c>N</c>, times <c>T²</c>) follows the official implementation (library decision).
/// <see cref="LogitClampMode.ReferenceClamp"/> clamps <c>x</c> to <c>±<see cref="ReferenceClampBound"/></c>, the
/// float64 equivalent of the official <c>[1e-8, 1 − 1e-8]</c> probability clamp; the float32 original's <c>+∞</c> is
/// treated as a defect and not reproduced.</para>
/// <para>Every input must be finite (<see cref="ArgumentException"/>); labels outside <c>[0, C)</c> throw
/// <see cref="ArgumentOutOfRangeException"/>. A <c>gradient</c> span, when not empty, receives the derivative of the
/// returned loss with respect to the student's logits.</para>
/// </remarks>
public static class DualHeadKd
{
    /// <summary><c>c = ln((1 − 1e-8)/1e-8) ≈ 18.420681</c>: the logit bound equivalent to the official probability clamp.</summary>
    public static readonly double ReferenceClampBound = Math.Log((1 - 1e-8) / 1e-8);

    private const double Ln2 = 0.69314718055994530942;

    /// <summary>BinaryKL-Norm, <c>(T²/N)·Σ log cosh((z¹ − z_t)/(2T))</c>.</summary>
    /// <param name="student">Auxiliary-head logits <c>z¹</c>, row-major <c>[N, C]</c>; finite.</param>
    /// <param name="teacher">Teacher logits <c>z_t</c>, same length; finite.</param>
    /// <param name="classes"><c>C</c>, at least 1, dividing the length.</param>
    /// <param name="temperature">T, finite and &gt; 0.</param>
    /// <param name="clampMode">The optional reference clamp.</param>
    /// <param name="gradient">Empty, or receives <c>∂L/∂z¹ = (T/(2N))·tanh(Δ/(2T))</c> (0 beyond the clamp).</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, the gradient is too short, or a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> or <paramref name="clampMode"/> is invalid.</exception>
    public static double BinaryKLNorm(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int classes, double temperature, LogitClampMode clampMode = LogitClampMode.None, Span<double> gradient = default) =>
        BinaryCore(student, teacher, classes, temperature, clampMode, gradient, normalised: true);

    /// <inheritdoc cref="BinaryKLNorm(ReadOnlySpan{float}, ReadOnlySpan{float}, int, double, LogitClampMode, Span{double})"/>
    public static double BinaryKLNorm(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int classes, double temperature, LogitClampMode clampMode = LogitClampMode.None, Span<double> gradient = default) =>
        BinaryCore(student, teacher, classes, temperature, clampMode, gradient, normalised: true);

    /// <summary>BinaryKL, <c>(T²/N)·Σ KL(Bernoulli(σ(z_t/T)) ‖ Bernoulli(σ(z¹/T)))</c>, in the stable softplus form.</summary>
    /// <param name="student">Auxiliary-head logits <c>z¹</c>, row-major <c>[N, C]</c>; finite.</param>
    /// <param name="teacher">Teacher logits <c>z_t</c>, same length; finite.</param>
    /// <param name="classes"><c>C</c>, at least 1, dividing the length.</param>
    /// <param name="temperature">T, finite and &gt; 0.</param>
    /// <param name="clampMode">The optional reference clamp (applied to both <c>x_s</c> and <c>x_t</c>).</param>
    /// <param name="gradient">Empty, or receives <c>∂L/∂z¹ = T·(σ(x_s) − σ(x_t))/N</c> (0 where <c>x_s</c> is clamped).</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, the gradient is too short, or a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> or <paramref name="clampMode"/> is invalid.</exception>
    public static double BinaryKL(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int classes, double temperature, LogitClampMode clampMode = LogitClampMode.None, Span<double> gradient = default) =>
        BinaryCore(student, teacher, classes, temperature, clampMode, gradient, normalised: false);

    /// <inheritdoc cref="BinaryKL(ReadOnlySpan{float}, ReadOnlySpan{float}, int, double, LogitClampMode, Span{double})"/>
    public static double BinaryKL(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int classes, double temperature, LogitClampMode clampMode = LogitClampMode.None, Span<double> gradient = default) =>
        BinaryCore(student, teacher, classes, temperature, clampMode, gradient, normalised: false);

    /// <summary>Temperature (softmax) KD, <c>(T_kd²/N)·Σ_n KL(softmax(z_t/T_kd) ‖ softmax(z/T_kd))</c>, forward KL.</summary>
    /// <param name="student">Student logits, row-major <c>[N, C]</c>; finite.</param>
    /// <param name="teacher">Teacher logits, same length; finite.</param>
    /// <param name="classes"><c>C</c>, at least 1, dividing the length.</param>
    /// <param name="kdTemperature">T_kd, finite and &gt; 0.</param>
    /// <param name="gradient">Empty, or receives <c>∂L/∂z = (T_kd/N)·(softmax(z/T_kd) − softmax(z_t/T_kd))</c>.</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, the gradient is too short, or a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kdTemperature"/> is invalid.</exception>
    public static double SoftmaxKD(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int classes, double kdTemperature, Span<double> gradient = default) =>
        SoftmaxKdCore(student, teacher, classes, kdTemperature, gradient);

    /// <inheritdoc cref="SoftmaxKD(ReadOnlySpan{float}, ReadOnlySpan{float}, int, double, Span{double})"/>
    public static double SoftmaxKD(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int classes, double kdTemperature, Span<double> gradient = default) =>
        SoftmaxKdCore(student, teacher, classes, kdTemperature, gradient);

    /// <summary>Mean cross-entropy, <c>−(1/N)·Σ_n log softmax(z_n)[y_n]</c>, with max-shifted log-softmax.</summary>
    /// <param name="logits">Main-head logits, row-major <c>[N, C]</c>; finite.</param>
    /// <param name="labels"><c>N</c> labels in <c>[0, C)</c>.</param>
    /// <param name="classes"><c>C</c>, at least 1, dividing the length.</param>
    /// <param name="gradient">Empty, or receives <c>∂CE/∂z = (softmax(z) − onehot(y))/N</c>.</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, the gradient is too short, or a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, C)</c>.</exception>
    public static double CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, Span<double> gradient = default) =>
        CrossEntropyCore(logits, labels, classes, gradient);

    /// <inheritdoc cref="CrossEntropy(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{double})"/>
    public static double CrossEntropy(ReadOnlySpan<double> logits, ReadOnlySpan<int> labels, int classes, Span<double> gradient = default) =>
        CrossEntropyCore(logits, labels, classes, gradient);

    /// <summary>The combined loss <c>γ·CE(z⁰, y) + α·L_aux(z¹, z_t)</c> with its weighted components.</summary>
    /// <param name="mainLogits">Main-head logits <c>z⁰</c>, row-major <c>[N, C]</c>.</param>
    /// <param name="auxiliaryLogits">Auxiliary-head logits <c>z¹</c>, same length.</param>
    /// <param name="teacherLogits">Teacher logits <c>z_t</c>, same length.</param>
    /// <param name="labels"><c>N</c> labels.</param>
    /// <param name="classes"><c>C</c>.</param>
    /// <param name="options">The weights, temperatures and auxiliary loss.</param>
    /// <param name="epoch">The epoch counted from 1, for <see cref="DualHeadKdOptions.AuxiliaryStopEpoch"/>; or <see langword="null"/>.</param>
    /// <returns>The total and its two weighted components.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit or a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, C)</c>.</exception>
    public static DualHeadKdLossValue TotalLoss(ReadOnlySpan<float> mainLogits, ReadOnlySpan<float> auxiliaryLogits, ReadOnlySpan<float> teacherLogits, ReadOnlySpan<int> labels, int classes, DualHeadKdOptions options, int? epoch = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Require.Length(mainLogits.Length, auxiliaryLogits.Length, nameof(mainLogits), "same [N, C] shape");
        double ce = options.Gamma * CrossEntropy(mainLogits, labels, classes);
        double alpha = options.AlphaAt(epoch);
        double aux = options.AuxiliaryLoss switch
        {
            DualHeadAuxiliaryLoss.BinaryKL => BinaryKL(auxiliaryLogits, teacherLogits, classes, options.Temperature, options.ClampMode),
            DualHeadAuxiliaryLoss.SoftmaxKD => SoftmaxKD(auxiliaryLogits, teacherLogits, classes, options.KdTemperature),
            _ => BinaryKLNorm(auxiliaryLogits, teacherLogits, classes, options.Temperature, options.ClampMode),
        };
        double weighted = alpha * aux;
        return new DualHeadKdLossValue(ce + weighted, ce, weighted);
    }

    /// <summary>BinaryKL-Norm of two batches (<c>N</c> = rows, <c>C</c> = vocab) on any backend.</summary>
    /// <param name="student">Auxiliary-head logits.</param>
    /// <param name="teacher">Teacher logits, same shape.</param>
    /// <param name="temperature">T, finite and &gt; 0.</param>
    /// <param name="clampMode">The optional reference clamp.</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">Shapes differ or a logit is not finite.</exception>
    public static double BinaryKLNorm(LogitBatch student, LogitBatch teacher, double temperature, LogitClampMode clampMode = LogitClampMode.None) =>
        OnHost(student, teacher, temperature, clampMode, 0);

    /// <summary>BinaryKL of two batches (<c>N</c> = rows, <c>C</c> = vocab) on any backend.</summary>
    /// <param name="student">Auxiliary-head logits.</param>
    /// <param name="teacher">Teacher logits, same shape.</param>
    /// <param name="temperature">T, finite and &gt; 0.</param>
    /// <param name="clampMode">The optional reference clamp.</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">Shapes differ or a logit is not finite.</exception>
    public static double BinaryKL(LogitBatch student, LogitBatch teacher, double temperature, LogitClampMode clampMode = LogitClampMode.None) =>
        OnHost(student, teacher, temperature, clampMode, 1);

    /// <summary>Softmax KD of two batches (<c>N</c> = rows, <c>C</c> = vocab) on any backend.</summary>
    /// <param name="student">Student logits.</param>
    /// <param name="teacher">Teacher logits, same shape.</param>
    /// <param name="kdTemperature">T_kd, finite and &gt; 0.</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">Shapes differ or a logit is not finite.</exception>
    public static double SoftmaxKD(LogitBatch student, LogitBatch teacher, double kdTemperature) =>
        OnHost(student, teacher, kdTemperature, LogitClampMode.None, 2);

    /// <summary>Mean cross-entropy of a batch (<c>N</c> = rows, <c>C</c> = vocab) on any backend.</summary>
    /// <param name="logits">Main-head logits.</param>
    /// <param name="labels">One label per row, in <c>[0, Vocab)</c>.</param>
    /// <returns>The loss in float64.</returns>
    /// <exception cref="ArgumentException">The labels do not fit or a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, Vocab)</c>.</exception>
    public static double CrossEntropy(LogitBatch logits, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        var host = ArrayPool<float>.Shared.Rent(checked((int)logits.Length));
        try
        {
            var span = host.AsSpan(0, (int)logits.Length);
            logits.CopyTo(span);
            return CrossEntropy(span, labels, logits.Vocab);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(host);
        }
    }

    private static double OnHost(LogitBatch student, LogitBatch teacher, double temperature, LogitClampMode clampMode, int which)
    {
        ArgumentNullException.ThrowIfNull(student);
        student.EnsureSameShape(teacher, nameof(teacher));
        int length = checked((int)student.Length);
        var host = ArrayPool<float>.Shared.Rent(2 * length);
        try
        {
            var s = host.AsSpan(0, length);
            var t = host.AsSpan(length, length);
            student.CopyTo(s);
            teacher.CopyTo(t);
            return which switch
            {
                0 => BinaryKLNorm(s, t, student.Vocab, temperature, clampMode),
                1 => BinaryKL(s, t, student.Vocab, temperature, clampMode),
                _ => SoftmaxKD(s, t, student.Vocab, temperature),
            };
        }
        finally
        {
            ArrayPool<float>.Shared.Return(host);
        }
    }

    private static double BinaryCore<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, int classes, double temperature, LogitClampMode clampMode, Span<double> gradient, bool normalised)
        where T : unmanaged, INumberBase<T>
    {
        int rows = ValidatePair(student, teacher, classes, gradient);
        Require.FinitePositive(temperature, nameof(temperature));
        Require.Defined(clampMode, nameof(clampMode));

        bool clamp = clampMode == LogitClampMode.ReferenceClamp;
        double c = ReferenceClampBound;
        double sum = 0;
        double gradientScale = temperature / rows;
        for (int i = 0; i < student.Length; i++)
        {
            double zs = double.CreateTruncating(student[i]);
            double zt = double.CreateTruncating(teacher[i]);
            double term, derivative;
            if (normalised)
            {
                double x = (zs - zt) / temperature;
                bool clipped = clamp && Math.Abs(x) > c;
                if (clipped)
                {
                    x = Math.CopySign(c, x);
                }

                double u = 0.5 * x;
                double a = Math.Abs(u);
                term = a + Math.Log(1 + Math.Exp(-2 * a)) - Ln2; // log cosh(u) without overflow
                // d/dz1 of T^2 log cosh(Δ/(2T)) = (T/2) tanh(Δ/(2T)); the 1/N is in gradientScale.
                derivative = clipped ? 0 : 0.5 * Math.Tanh(u);
            }
            else
            {
                double xs = zs / temperature, xt = zt / temperature;
                bool clipped = clamp && Math.Abs(xs) > c;
                if (clamp)
                {
                    xs = Math.Clamp(xs, -c, c);
                    xt = Math.Clamp(xt, -c, c);
                }

                double sigmaT = Sigmoid(xt);
                term = Softplus(xs) - Softplus(xt) - (sigmaT * (xs - xt));
                derivative = clipped ? 0 : Sigmoid(xs) - sigmaT;
            }

            sum += term;
            if (!gradient.IsEmpty)
            {
                gradient[i] = gradientScale * derivative;
            }
        }

        return temperature * temperature * sum / rows;
    }

    private static double SoftmaxKdCore<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, int classes, double kdTemperature, Span<double> gradient)
        where T : unmanaged, INumberBase<T>
    {
        int rows = ValidatePair(student, teacher, classes, gradient);
        Require.FinitePositive(kdTemperature, nameof(kdTemperature));
        var buffer = ArrayPool<double>.Shared.Rent(2 * classes);
        try
        {
            var logS = buffer.AsSpan(0, classes);
            var logT = buffer.AsSpan(classes, classes);
            double sum = 0;
            for (int n = 0; n < rows; n++)
            {
                HostRowMath.LogSoftmax(student.Slice(n * classes, classes), 1 / kdTemperature, logS);
                HostRowMath.LogSoftmax(teacher.Slice(n * classes, classes), 1 / kdTemperature, logT);
                for (int k = 0; k < classes; k++)
                {
                    double pt = Math.Exp(logT[k]);
                    if (pt > 0)
                    {
                        sum += pt * (logT[k] - logS[k]);
                    }

                    if (!gradient.IsEmpty)
                    {
                        gradient[(n * classes) + k] = kdTemperature / rows * (Math.Exp(logS[k]) - pt);
                    }
                }
            }

            return kdTemperature * kdTemperature * sum / rows;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    private static double CrossEntropyCore<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, int classes, Span<double> gradient)
        where T : unmanaged, INumberBase<T>
    {
        int rows = ValidatePair(logits, logits, classes, gradient);
        if (labels.Length != rows)
        {
            ThrowHelper.ThrowArgument(nameof(labels), $"has length {labels.Length} but N = {rows} labels are required.");
        }

        for (int n = 0; n < rows; n++)
        {
            if ((uint)labels[n] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[n], $"Label {labels[n]} at index {n} is outside [0, {classes}).");
            }
        }

        var logP = ArrayPool<double>.Shared.Rent(classes);
        try
        {
            double sum = 0;
            for (int n = 0; n < rows; n++)
            {
                var row = logP.AsSpan(0, classes);
                HostRowMath.LogSoftmax(logits.Slice(n * classes, classes), 1, row);
                sum -= row[labels[n]];
                if (!gradient.IsEmpty)
                {
                    for (int k = 0; k < classes; k++)
                    {
                        gradient[(n * classes) + k] = (Math.Exp(row[k]) - (k == labels[n] ? 1 : 0)) / rows;
                    }
                }
            }

            return sum / rows;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(logP);
        }
    }

    private static int ValidatePair<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, int classes, Span<double> gradient)
        where T : unmanaged, INumberBase<T>
    {
        Require.AtLeast(classes, 1, nameof(classes));

        if (student.IsEmpty || student.Length % classes != 0)
        {
            ThrowHelper.ThrowArgument(nameof(student), $"has length {student.Length}; a non-empty [N, C] array with C = {classes} is required.");
        }

        Require.Length(teacher.Length, student.Length, nameof(teacher), "same [N, C] shape");

        if (!gradient.IsEmpty && gradient.Length < student.Length)
        {
            ThrowHelper.ThrowArgument(nameof(gradient), $"has length {gradient.Length} but {student.Length} is required.");
        }

        RequireFinite(student, nameof(student), classes);
        RequireFinite(teacher, nameof(teacher), classes);
        return student.Length / classes;
    }

    private static void RequireFinite<T>(ReadOnlySpan<T> x, string paramName, int classes)
        where T : unmanaged, INumberBase<T>
    {
        if (Require.IndexOfNonFinite(x) is int i and >= 0)
        {
            ThrowHelper.ThrowArgument(paramName, $"holds {x[i]} at row {i / classes}, class {i % classes}; Dual-Head KD losses need finite logits.");
        }
    }


    // softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact and overflow-free.
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
