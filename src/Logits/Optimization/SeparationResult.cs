
namespace Logits.Optimization;

/// <summary>What <see cref="LargeStepSeparation.Separate"/> did.</summary>
/// <param name="Iterations">The first <c>t ≥ 1</c> whose iterate has every margin strictly positive; when
/// <paramref name="Converged"/> is <see langword="false"/>, the iteration budget.</param>
/// <param name="Converged">Whether every margin became strictly positive within the budget.</param>
/// <param name="Theta">The iterate <c>θ_t</c> at <paramref name="Iterations"/> (not divided by γ).</param>
public sealed record SeparationResult(int Iterations, bool Converged, ReadOnlyMemory<double> Theta);
