using System;
using FluentAssertions;
using Logits.Flows;
using Logits.Flows.Testing;
using Logits.Randomness;
using Logits.Tensors;
using Logits.Tests.Flows;
using Logits.TorchSharp.Tensors;
using Xunit;

namespace Logits.TorchSharp.Tests.Flows;

/// <summary>Every <see cref="FlowSamplerTests"/> case on torch batches.</summary>
public sealed class TorchFlowSamplerTests : FlowSamplerTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

/// <summary>CPU and torch solvers agree within 1e-5 relative on the same model (issue 6 acceptance).</summary>
public sealed class FlowBackendAgreementTests
{
    [Theory]
    [InlineData(OdeSolver.Euler, 16)]
    [InlineData(OdeSolver.Midpoint, 8)]
    [InlineData(OdeSolver.Heun, 8)]
    [InlineData(OdeSolver.RungeKutta4, 8)]
    [InlineData(OdeSolver.FixedNoise, 4)]
    public void Cpu_and_torch_agree_on_the_same_field(OdeSolver solver, int steps)
    {
        // A smooth nonlinear field. (On the stiff triangle-mixture field, one-ulp differences in the kernels' rounding
        // are amplified by |∂v/∂x| ≈ 30 per step near component boundaries and reach ~3e-5 of the batch scale.)
        var field = new GaussianMixtureFlow(GaussianMixture.StandardNormal(2), new GaussianMixture(new double[] { 4, 0, -2, 3 }, 2, 1.5));
        var z0 = new float[2 * 257];
        GaussianMixture.StandardNormal(2).Sample(new Xoshiro256StarStar(11), z0);
        var sampler = new FlowSampler(solver, TimeGrid.EpsilonOffset(steps));
        using var cpu = CpuLogitBatch.FromRows(z0, 257, 2);
        using var torch = TorchLogitBatch.FromArray(z0, 257, 2);
        sampler.Sample(field, cpu);
        sampler.Sample(field, torch);
        var a = cpu.ToArray();
        var b = torch.ToArray();
        double scale = 0;
        foreach (float v in a)
        {
            scale = Math.Max(scale, Math.Abs(v));
        }

        for (int i = 0; i < a.Length; i++)
        {
            // Relative to the batch's magnitude: a coordinate that crosses 0 has no meaningful relative error of its own.
            ((double)Math.Abs(a[i] - b[i])).Should().BeLessThanOrEqualTo(1e-5 * scale, $"element {i}");
        }
    }
}
