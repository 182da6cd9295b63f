
namespace Logits.Flows;

/// <summary>
/// A velocity field <c>v(x, t)</c>: ℝ^d × [0, 1] → ℝ^d, evaluated on a batch of samples (one sample per row).
/// </summary>
/// <remarks>
/// <para>Library time convention (docs/algorithms/flows.md#time-convention): <c>t = 0</c> is noise, <c>t = 1</c> is data, and sampling
/// integrates from 0 to 1. A field written for another convention converts at its boundary.</para>
/// <para>The field is called with batches from the backend of the state (a <see cref="CpuLogitBatch"/> or a torch
/// batch); a field that supports both reads rows with <see cref="LogitBatch.CopyTo"/> or uses the batch's
/// <see cref="LogitBatch.Kernels"/>. It must not modify <c>x</c> and must write every element of
/// <c>destination</c> (a distinct batch of the same shape).</para>
/// </remarks>
public interface IVelocityField
{
    /// <summary>Writes <c>v(x, t)</c> for every row of <paramref name="x"/> into <paramref name="destination"/>.</summary>
    /// <param name="x">The states, <c>[samples, d]</c>; read only.</param>
    /// <param name="t">The time, already mapped by the grid and multiplied by the sampler's time scale.</param>
    /// <param name="destination">Receives the velocities; same shape and backend as <paramref name="x"/>.</param>
    void Evaluate(LogitBatch x, double t, LogitBatch destination);
}

/// <summary>A velocity field as a plain function: <c>destination = v(x, t)</c>.</summary>
/// <param name="x">The states, <c>[samples, d]</c>; read only.</param>
/// <param name="t">The time.</param>
/// <param name="destination">Receives the velocities.</param>
public delegate void VelocityFunction(LogitBatch x, double t, LogitBatch destination);
