using TorchSharp.Modules;

namespace Logits.TorchSharp.Distillation;

/// <summary>
/// Dual-Head KD's optional PCGrad-style gradient alignment over a parameter list (docs/algorithms/paper-methods.md#gradient-alignment; arXiv 2411.08937,
/// official code <c>penghui-yang/DHKD</c>; PCGrad: Yu et al., 2020).
/// </summary>
/// <remarks>
/// <para><see cref="Backward"/> runs two backward passes (the graph is retained after the first), flattens
/// <c>g₁ = ∇(γ·CE)</c> and <c>g₂ = ∇(α·L_aux)</c> over all parameters in the given (optimizer) order with unreached
/// parameters as 0, projects <c>g₂ ← g₂ − (g₂·g₁/‖g₁‖²)·g₁</c> when <c>g₂·g₁ &lt; 0</c> (skipped when <c>‖g₁‖ = 0</c>),
/// and writes <c>g₁ + g₂</c> back as the parameters' gradients, replacing what was there. The caller then clips (if
/// wanted) and steps the optimizer. As in the reference, only <c>g₂</c> is projected and the projection adds a multiple
/// of <c>g₁</c> to every parameter <c>g₁</c> reaches, main head included (see <see cref="Logits.Distillation.GradientAlignment"/>).</para>
/// </remarks>
public sealed class GradientAligner
{
    private readonly Parameter[] _parameters;

    /// <summary>Wraps the optimizer's parameter list.</summary>
    /// <param name="parameters">The trainable student parameters, in optimizer order.</param>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    public GradientAligner(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(parameters), "must not be empty.");
        }
    }

    /// <summary>The parameters, in the order their gradients are flattened.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Computes both gradients, aligns them and writes the merged gradient to the parameters.</summary>
    /// <param name="weightedCrossEntropy">The scalar <c>γ·CE</c> (e.g. <see cref="DualHeadKdLossResult.CrossEntropy"/>).</param>
    /// <param name="weightedAuxiliary">The scalar <c>α·L_aux</c> (e.g. <see cref="DualHeadKdLossResult.Auxiliary"/>).</param>
    /// <returns>Whether the auxiliary gradient was projected (the two gradients conflicted).</returns>
    public bool Backward(Tensor weightedCrossEntropy, Tensor weightedAuxiliary)
    {
        ArgumentNullException.ThrowIfNull(weightedCrossEntropy);
        ArgumentNullException.ThrowIfNull(weightedAuxiliary);
        using var scope = NewDisposeScope();
        var g1 = Gradient(weightedCrossEntropy, retainGraph: true);
        var g2 = Gradient(weightedAuxiliary, retainGraph: false);
        var merged = Merge(g1, g2, out bool projected);
        using (no_grad())
        {
            long offset = 0;
            foreach (var p in _parameters)
            {
                long n = p.numel();
                var slice = merged.narrow(0, offset, n).view_as(p);
                offset += n;
                var grad = p.grad;
                if (grad is null)
                {
                    p.grad = slice.clone().DetachFromDisposeScope();
                }
                else
                {
                    grad.copy_(slice);
                }
            }
        }

        return projected;
    }

    /// <summary>The one-sided projection on two flattened gradients: <c>g₁ + g₂'</c> (see the class remarks).</summary>
    /// <param name="crossEntropyGradient"><c>g₁</c>, 1-D.</param>
    /// <param name="auxiliaryGradient"><c>g₂</c>, 1-D, same length.</param>
    /// <param name="projected">Whether <c>g₂</c> was projected.</param>
    /// <returns>A new 1-D tensor; dot products are accumulated in float64.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor Merge(Tensor crossEntropyGradient, Tensor auxiliaryGradient, out bool projected)
    {
        ArgumentNullException.ThrowIfNull(crossEntropyGradient);
        ArgumentNullException.ThrowIfNull(auxiliaryGradient);
        if (crossEntropyGradient.Dimensions != 1 || !auxiliaryGradient.shape.AsSpan().SequenceEqual(crossEntropyGradient.shape))
        {
            ThrowHelper.ThrowArgument(nameof(auxiliaryGradient), "and the cross-entropy gradient must be 1-D tensors of the same length.");
        }

        using var scope = NewDisposeScope();
        var a = crossEntropyGradient.to_type(ScalarType.Float64);
        var b = auxiliaryGradient.to_type(ScalarType.Float64);
        double dot = b.dot(a).item<double>();
        double norm2 = a.dot(a).item<double>();
        projected = dot < 0 && norm2 > 0;
        var merged = projected ? a.Plus(b).sub(a.Times(dot / norm2)) : a.Plus(b);
        return merged.to_type(crossEntropyGradient.dtype).MoveToOuterDisposeScope();
    }

    private Tensor Gradient(Tensor loss, bool retainGraph)
    {
        foreach (var p in _parameters)
        {
            p.grad?.zero_();
        }

        if (loss.requires_grad)
        {
            loss.backward(retain_graph: retainGraph);
        }

        var parts = new Tensor[_parameters.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var p = _parameters[i];
            parts[i] = p.grad is { } g ? g.detach().reshape(-1).clone() : zeros(p.numel(), p.dtype, p.device);
        }

        return cat(parts, 0);
    }
}
