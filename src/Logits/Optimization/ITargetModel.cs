
namespace Logits.Optimization;

/// <summary>A target map <c>z(θ)</c>: the logits (targets) of a model's examples as a function of its float64 parameters,
/// with the vector-Jacobian product that a surrogate's inner steps need.</summary>
/// <remarks>Targets of the rows selected by a batch are row-major <c>[rows.Length, Width]</c>. Implementations must be
/// deterministic; <see cref="SsoOptimizer"/> calls them many times per expensive loss gradient.</remarks>
public interface ITargetModel
{
    /// <summary>The number of parameters θ.</summary>
    int ParameterCount { get; }

    /// <summary>K, the targets per example.</summary>
    int Width { get; }

    /// <summary>N, the number of examples the model maps (valid row indices are <c>[0, N)</c>).</summary>
    int Rows { get; }

    /// <summary>Writes <c>z_B(θ)</c> for the selected rows.</summary>
    /// <param name="parameters">θ, <see cref="ParameterCount"/> values.</param>
    /// <param name="rows">The selected example indices.</param>
    /// <param name="destination">Receives <c>rows.Length · Width</c> values.</param>
    void Targets(ReadOnlySpan<double> parameters, ReadOnlySpan<int> rows, Span<double> destination);

    /// <summary>Writes <c>J_B(θ)ᵀ·v</c>, the gradient with respect to θ of <c>⟨v, z_B(θ)⟩</c>.</summary>
    /// <param name="parameters">θ.</param>
    /// <param name="rows">The selected example indices.</param>
    /// <param name="targetGradient">v, <c>rows.Length · Width</c> values.</param>
    /// <param name="destination">Receives <see cref="ParameterCount"/> values.</param>
    void BackpropagateTargets(ReadOnlySpan<double> parameters, ReadOnlySpan<int> rows, ReadOnlySpan<double> targetGradient, Span<double> destination);
}
