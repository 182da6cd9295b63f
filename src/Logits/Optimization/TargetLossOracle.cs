
namespace Logits.Optimization;

/// <summary>The expensive call of target-based optimisation: the loss h_B and its gradient G = ∇_z h_B at the targets
/// of a batch (in imitation learning, an expert or an environment).</summary>
/// <param name="rows">The batch's example indices.</param>
/// <param name="targets">z_t, row-major <c>[rows.Length, K]</c>.</param>
/// <param name="gradient">Receives G_t, same length.</param>
/// <returns>h_B(z_t).</returns>
public delegate double TargetLossOracle(ReadOnlySpan<int> rows, ReadOnlySpan<double> targets, Span<double> gradient);
