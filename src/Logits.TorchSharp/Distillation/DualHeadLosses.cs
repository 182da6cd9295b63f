using Logits.Distillation;

namespace Logits.TorchSharp.Distillation;

/// <summary>
/// Dual-Head KD's standalone losses on torch tensors, differentiable by autograd with respect to the student logits
/// (docs/algorithms/paper-methods.md#losses).
/// </summary>
/// <remarks>
/// <para>Source: Yang et al., <i>Dual-Head Knowledge Distillation: Enhancing Logits Utilization with an Auxiliary Head</i>,
/// arXiv 2411.08937 (KDD 2025); official code <c>penghui-yang/DHKD</c>.</para>
/// <para>Logits are <c>[N, C]</c>; higher-rank inputs <c>[..., C]</c> are flattened and <c>N</c> is the number of rows
/// (token-level callers select the valid positions first). With <c>Δ = z¹ − z_t</c>:
/// BinaryKL-Norm <c>= (T²/N)·Σ log cosh(Δ/(2T))</c> evaluated as <c>|u| + log1p(exp(−2|u|)) − log 2</c>;
/// BinaryKL <c>= (T²/N)·Σ softplus(x_s) − softplus(x_t) − σ(x_t)(x_s − x_t)</c>; Softmax KD
/// <c>= (T_kd²/N)·Σ KL(softmax(z_t/T_kd) ‖ softmax(z/T_kd))</c>; CE <c>= −mean log_softmax(z⁰)[y]</c>.</para>
/// <para>Library decisions: the teacher logits are detached inside every loss (the teacher receives nothing);
/// computation is float32 at least (half precision is upcast, float64 stays float64); no clamp by default, and
/// <see cref="LogitClampMode.ReferenceClamp"/> clamps <c>x = Δ/T</c> (or <c>x_s</c>, <c>x_t</c>) to
/// <c>±<see cref="DualHeadKd.ReferenceClampBound"/></c>, which reproduces the official float64 values and the zero
/// gradient beyond the cap, never the float32 original's <c>+∞</c>. With <c>validateInputs</c> one reduction (one host
/// synchronisation) rejects non-finite logits (<see cref="ArgumentException"/>) and out-of-range labels
/// (<see cref="ArgumentOutOfRangeException"/>). Inputs are never disposed; results are scalars the caller owns.</para>
/// </remarks>
public static class DualHeadLosses
{
    private const double Ln2 = 0.69314718055994530942;

    /// <summary>BinaryKL-Norm, <c>(T²/N)·Σ log cosh((z¹ − z_t)/(2T))</c>; gradient <c>(T/(2N))·tanh(Δ/(2T))</c>.</summary>
    /// <param name="student">Auxiliary-head logits <c>[N, C]</c>.</param>
    /// <param name="teacher">Teacher logits, same shape (detached inside).</param>
    /// <param name="temperature">T, finite and &gt; 0 (the recipe uses 2).</param>
    /// <param name="clampMode">The optional reference clamp.</param>
    /// <param name="validateInputs">Whether to check that both inputs are finite.</param>
    /// <param name="validPositions">Optional mask over the leading dimensions of the logits (e.g. <c>[B, S]</c> for
    /// <c>[B, S, C]</c> logits): only the marked positions are used and <c>N</c> is their count; at least one
    /// position must be marked. Selecting them synchronises with the host once.</param>
    /// <returns>A scalar tensor.</returns>
    /// <exception cref="ArgumentException">Shapes differ, or (when validating) a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is invalid.</exception>
    public static Tensor BinaryKLNorm(Tensor student, Tensor teacher, double temperature = 2, LogitClampMode clampMode = LogitClampMode.None, bool validateInputs = true, Tensor? validPositions = null)
    {
        using var scope = NewDisposeScope();
        var (s, t, rows) = Prepare(student, teacher, temperature, nameof(temperature), validateInputs, validPositions);
        var x = s.sub(t).DividedBy(temperature);
        if (clampMode == LogitClampMode.ReferenceClamp)
        {
            x = x.ClampedTo(-DualHeadKd.ReferenceClampBound, DualHeadKd.ReferenceClampBound); // zero gradient beyond the cap
        }

        var a = x.Times(0.5).abs();
        // log cosh(u) = |u| + log1p(exp(-2|u|)) - log 2: exp only sees non-positive arguments.
        var terms = a.Times(-2).exp().log1p().Plus(a).Minus(Ln2);
        return Total(terms, temperature * temperature / rows).MoveToOuterDisposeScope();
    }

    /// <summary>BinaryKL, <c>(T²/N)·Σ KL(Bernoulli(σ(z_t/T)) ‖ Bernoulli(σ(z¹/T)))</c> in the stable softplus form.</summary>
    /// <param name="student">Auxiliary-head logits <c>[N, C]</c>.</param>
    /// <param name="teacher">Teacher logits, same shape (detached inside).</param>
    /// <param name="temperature">T, finite and &gt; 0.</param>
    /// <param name="clampMode">The optional reference clamp (on both <c>x_s</c> and <c>x_t</c>).</param>
    /// <param name="validateInputs">Whether to check that both inputs are finite.</param>
    /// <param name="validPositions">Optional mask over the leading dimensions of the logits (e.g. <c>[B, S]</c> for
    /// <c>[B, S, C]</c> logits): only the marked positions are used and <c>N</c> is their count; at least one
    /// position must be marked. Selecting them synchronises with the host once.</param>
    /// <returns>A scalar tensor.</returns>
    /// <exception cref="ArgumentException">Shapes differ, or (when validating) a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is invalid.</exception>
    public static Tensor BinaryKL(Tensor student, Tensor teacher, double temperature = 2, LogitClampMode clampMode = LogitClampMode.None, bool validateInputs = true, Tensor? validPositions = null)
    {
        using var scope = NewDisposeScope();
        var (s, t, rows) = Prepare(student, teacher, temperature, nameof(temperature), validateInputs, validPositions);
        var xs = s.DividedBy(temperature);
        var xt = t.DividedBy(temperature);
        if (clampMode == LogitClampMode.ReferenceClamp)
        {
            xs = xs.ClampedTo(-DualHeadKd.ReferenceClampBound, DualHeadKd.ReferenceClampBound);
            xt = xt.ClampedTo(-DualHeadKd.ReferenceClampBound, DualHeadKd.ReferenceClampBound);
        }

        var terms = Softplus(xs).sub(Softplus(xt)).sub(xt.sigmoid().mul(xs.sub(xt)));
        return Total(terms, temperature * temperature / rows).MoveToOuterDisposeScope();
    }

    /// <summary>Temperature (softmax) KD, <c>(T_kd²/N)·Σ_n KL(softmax(z_t/T_kd) ‖ softmax(z/T_kd))</c> (forward KL).</summary>
    /// <param name="student">Student logits <c>[N, C]</c>.</param>
    /// <param name="teacher">Teacher logits, same shape (detached inside).</param>
    /// <param name="kdTemperature">T_kd, finite and &gt; 0.</param>
    /// <param name="validateInputs">Whether to check that both inputs are finite.</param>
    /// <param name="validPositions">Optional mask over the leading dimensions of the logits (e.g. <c>[B, S]</c> for
    /// <c>[B, S, C]</c> logits): only the marked positions are used and <c>N</c> is their count; at least one
    /// position must be marked. Selecting them synchronises with the host once.</param>
    /// <returns>A scalar tensor.</returns>
    /// <exception cref="ArgumentException">Shapes differ, or (when validating) a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kdTemperature"/> is invalid.</exception>
    public static Tensor SoftmaxKD(Tensor student, Tensor teacher, double kdTemperature = 4, bool validateInputs = true, Tensor? validPositions = null)
    {
        using var scope = NewDisposeScope();
        var (s, t, rows) = Prepare(student, teacher, kdTemperature, nameof(kdTemperature), validateInputs, validPositions);
        var logS = nn.functional.log_softmax(s.DividedBy(kdTemperature), -1);
        var logT = nn.functional.log_softmax(t.DividedBy(kdTemperature), -1);
        var pT = logT.exp();
        var kl = pT.mul(logT.sub(logS)).masked_fill(pT.le(TorchScalars.Zero), TorchScalars.Zero);
        return Total(kl, kdTemperature * kdTemperature / rows).MoveToOuterDisposeScope();
    }

    /// <summary>Mean cross-entropy <c>−(1/N)·Σ log_softmax(z)[y]</c> with max-shifted log-softmax.</summary>
    /// <param name="logits">Main-head logits <c>[N, C]</c>.</param>
    /// <param name="labels"><c>[N]</c> integer labels in <c>[0, C)</c>.</param>
    /// <param name="validateInputs">Whether to check finiteness and the label range.</param>
    /// <param name="validPositions">Optional mask over the leading dimensions of the logits (e.g. <c>[B, S]</c> for
    /// <c>[B, S, C]</c> logits): only the marked positions are used and <c>N</c> is their count; at least one
    /// position must be marked. Selecting them synchronises with the host once.</param>
    /// <returns>A scalar tensor.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, or (when validating) a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">(When validating) a label is outside <c>[0, C)</c>.</exception>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, bool validateInputs = true, Tensor? validPositions = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = NewDisposeScope();
        var z = Flatten(logits, nameof(logits));
        long rows = z.shape[0], classes = z.shape[1];
        if (labels.numel() != rows || labels.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
        {
            ThrowHelper.ThrowArgument(nameof(labels), $"has {labels.numel()} elements of {labels.dtype}; {rows} integer labels are required.");
        }

        var y = labels.reshape(rows, 1).to_type(ScalarType.Int64);
        if (validPositions is not null)
        {
            var selected = ValidRows(validPositions, rows);
            z = z.index_select(0, selected);
            y = y.index_select(0, selected);
        }

        if (validateInputs)
        {
            RequireFinite(z, nameof(logits));
            var range = y.min().item<long>();
            var high = y.max().item<long>();
            if (range < 0 || high >= classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), range < 0 ? range : high, $"Labels must be in [0, {classes}).");
            }
        }

        var logP = nn.functional.log_softmax(z, -1);
        return logP.gather(1, y).mean().neg().MoveToOuterDisposeScope();
    }

    /// <summary>The auxiliary loss selected by <paramref name="options"/> (unweighted).</summary>
    /// <param name="auxiliaryLogits">Auxiliary-head logits <c>[N, C]</c>.</param>
    /// <param name="teacherLogits">Teacher logits, same shape.</param>
    /// <param name="options">Selects the loss, temperatures and clamp.</param>
    /// <param name="validPositions">Optional mask of the positions that carry a loss (see <see cref="BinaryKLNorm"/>).</param>
    /// <returns>A scalar tensor.</returns>
    public static Tensor Auxiliary(Tensor auxiliaryLogits, Tensor teacherLogits, DualHeadKdOptions options, Tensor? validPositions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AuxiliaryLoss switch
        {
            DualHeadAuxiliaryLoss.BinaryKL => BinaryKL(auxiliaryLogits, teacherLogits, options.Temperature, options.ClampMode, options.ValidateInputs, validPositions),
            DualHeadAuxiliaryLoss.SoftmaxKD => SoftmaxKD(auxiliaryLogits, teacherLogits, options.KdTemperature, options.ValidateInputs, validPositions),
            _ => BinaryKLNorm(auxiliaryLogits, teacherLogits, options.Temperature, options.ClampMode, options.ValidateInputs, validPositions),
        };
    }

    // The N·C terms are accumulated in float64 (a float32 sum over ~10⁵ classes drifts by ~1e-5 relative), then the
    // scalar is returned in the computation dtype.
    private static Tensor Total(Tensor terms, double factor) =>
        terms.sum(ScalarType.Float64).Times(factor).to_type(terms.dtype);

    // softplus(x) = max(x, 0) + log1p(exp(-|x|)): exact everywhere (torch's softplus switches to x above 20).
    private static Tensor Softplus(Tensor x) => x.clamp_min(TorchScalars.Zero).Plus(x.abs().neg().exp().log1p());

    private static (Tensor Student, Tensor Teacher, long Rows) Prepare(Tensor student, Tensor teacher, double temperature, string temperatureName, bool validate, Tensor? validPositions)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (!double.IsFinite(temperature) || temperature <= 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(temperatureName, temperature, "must be finite and greater than 0");
        }

        if (teacher.Dimensions != student.Dimensions || !teacher.shape.AsSpan().SequenceEqual(student.shape))
        {
            ThrowHelper.ThrowArgument(nameof(teacher), $"has shape [{string.Join(", ", teacher.shape)}] but [{string.Join(", ", student.shape)}] is required.");
        }

        var s = Flatten(student, nameof(student));
        var t = Flatten(teacher.detach(), nameof(teacher));
        if (validPositions is not null)
        {
            var rows = ValidRows(validPositions, s.shape[0]);
            s = s.index_select(0, rows);
            t = t.index_select(0, rows);
        }
        if (t.dtype != s.dtype)
        {
            t = t.to_type(s.dtype);
        }

        if (validate)
        {
            var finite = isfinite(s.detach()).all().logical_and(isfinite(t).all());
            if (!finite.item<bool>())
            {
                ThrowHelper.ThrowArgument(nameof(student), "or the teacher logits hold NaN or ±∞; Dual-Head KD losses need finite logits.");
            }
        }

        return (s, t, s.shape[0]);
    }

    private static Tensor ValidRows(Tensor validPositions, long rows)
    {
        if (validPositions.numel() != rows)
        {
            ThrowHelper.ThrowArgument(nameof(validPositions), $"has {validPositions.numel()} elements but the logits have {rows} positions.");
        }

        var selected = validPositions.reshape(-1).ne(TorchScalars.Zero).nonzero().reshape(-1);
        if (selected.numel() == 0)
        {
            ThrowHelper.ThrowArgument(nameof(validPositions), "marks no position; N must be at least 1.");
        }

        return selected;
    }

    private static Tensor Flatten(Tensor x, string paramName)
    {
        if (x.Dimensions < 2 || x.numel() == 0)
        {
            ThrowHelper.ThrowArgument(paramName, $"has shape [{string.Join(", ", x.shape)}]; non-empty [N, C] logits are required.");
        }

        var flat = x.reshape(-1, x.shape[^1]);
        // Evaluate in float32 at least (half precision upcast); float64 stays float64.
        return flat.dtype is ScalarType.Float64 or ScalarType.Float32 ? flat : flat.to_type(ScalarType.Float32);
    }

    private static void RequireFinite(Tensor x, string paramName)
    {
        if (!isfinite(x.detach()).all().item<bool>())
        {
            ThrowHelper.ThrowArgument(paramName, "holds NaN or ±∞; Dual-Head KD losses need finite logits.");
        }
    }
}
