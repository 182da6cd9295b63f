using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Flows;
using Logits.Flows.Testing;
using Logits.Randomness;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Flows;

/// <summary>
/// <see cref="FlowSampler"/> on reference vectors (docs/algorithms/flows.md#ode-solvers), the float64 reference solver on random
/// batches, orders of accuracy, backward integration, trajectories and invalid input. Backend-neutral.
/// </summary>
public abstract class FlowSamplerTests
{
    /// <summary>float32 state: the float32 tolerance (1e-4 relative, floor 1).</summary>
    private const double Float32 = 1e-4;

    private static readonly OdeSolver[] OdeSolvers = { OdeSolver.Euler, OdeSolver.Midpoint, OdeSolver.Heun, OdeSolver.RungeKutta4 };

    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private static void Near(double actual, double expected, double tolerance = Float32) =>
        actual.Should().BeApproximately(expected, tolerance * Math.Max(1, Math.Abs(expected)));

    private (float[] End, FlowSampleResult Result, FlowTrajectory Path) Run(FlowSampler sampler, IVelocityField field, float[] z0, int vocab, FlowDirection direction = FlowDirection.Forward)
    {
        using var state = Create(z0, z0.Length / vocab, vocab);
        var path = new FlowTrajectory();
        var result = sampler.Sample(field, state, direction, path);
        return (state.ToArray(), result, path);
    }

    public static TheoryData<OdeSolver, int, int, double, double, double> GaussianShiftTable() => new()
    {
        { OdeSolver.Euler, 1, 1, 4, 0, 0 },
        { OdeSolver.Euler, 2, 2, 4.5, -1, 1.25 },
        { OdeSolver.Euler, 4, 4, 4.72, -1.44, 1.596 },
        { OdeSolver.Euler, 8, 8, 4.850822, -1.701644, 1.840415 },
        { OdeSolver.Euler, 100, 100, 4.987228, -1.974456, 2.118716 },
        { OdeSolver.Euler, 1000, 1000, 4.998715, -1.997431, double.NaN },
        { OdeSolver.Midpoint, 1, 2, 5, -2, 0 },
        { OdeSolver.Midpoint, 2, 4, 4.98, -1.96, 1.682 },
        { OdeSolver.Midpoint, 4, 8, 4.997869, -1.995738, 2.028769 },
        { OdeSolver.Heun, 1, 2, 4.5, -1, 0 },
        { OdeSolver.Heun, 2, 4, 4.9375, -1.875, 0.957031 },
        { OdeSolver.Heun, 4, 8, 4.99, -1.98, 1.815260 },
        { OdeSolver.RungeKutta4, 1, 4, 5, -2, 0 },
        { OdeSolver.RungeKutta4, 2, 8, 4.996389, -1.992778, 1.738861 },
        { OdeSolver.RungeKutta4, 4, 16, 4.999916, -1.999832, 2.033750 },
    };

    [Theory]
    [MemberData(nameof(GaussianShiftTable))]
    public void Gaussian_shift_matches_spec_8_2(OdeSolver solver, int steps, int nfe, double x, double y, double straightness)
    {
        var field = VelocityField.Counting(GaussianMixtureFlow.GaussianShift(4, 0));
        var (end, result, path) = Run(new FlowSampler(solver, TimeGrid.Uniform(steps)), field, new float[] { 1, -2 }, 2);
        result.FunctionEvaluations.Should().Be(nfe);
        field.Evaluations.Should().Be(nfe);
        result.Steps.Should().Be(steps);
        Near(end[0], x, steps >= 1000 ? 5e-4 : Float32);
        Near(end[1], y, steps >= 1000 ? 5e-4 : Float32);
        path.Count.Should().Be(steps + 1);
        if (!double.IsNaN(straightness))
        {
            // Chord slopes divide float32 differences by h, so the estimate carries ~N·ulp relative error.
            Near(Straightness.Estimate(path), straightness, 1e-3);
            Near(Straightness.Estimate(path, StraightnessNorm.PerElement), straightness / 2, 1e-3);
        }
    }

    [Fact]
    public void Gaussian_shift_one_euler_step_gives_the_target_mean_for_any_start()
    {
        var z0 = new float[] { 1, -2, 0, 0, -3.5f, 7, 10, 10 };
        var (end, _, _) = Run(FlowSampler.Euler(1), GaussianMixtureFlow.GaussianShift(4, 0), z0, 2);
        for (int r = 0; r < 4; r++)
        {
            Near(end[2 * r], 4);
            Near(end[(2 * r) + 1], 0);
        }
    }

    [Fact]
    public void Gaussian_shift_straightness_converges_to_the_exact_value()
    {
        // N(0, I) → N(μ, I): exact straightness of this trajectory is ‖z0‖²(2 − π/2) = 2.146018; the 2-RF field v ≡ μ is straight.
        var (_, _, path) = Run(new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(1000)), GaussianMixtureFlow.GaussianShift(4, 0), new float[] { 1, -2 }, 2);
        Straightness.Estimate(path).Should().BeApproximately(5 * (2 - (Math.PI / 2)), 0.01);
        var constant = ReferenceFlows.Field((_, _) => new[] { 4.0, 0.0 });
        foreach (var solver in OdeSolvers)
        {
            foreach (int n in new[] { 1, 2, 4 })
            {
                var (end, _, straight) = Run(new FlowSampler(solver, TimeGrid.Uniform(n)), constant, new float[] { 1, -2 }, 2);
                Near(end[0], 5, 1e-6);
                Near(end[1], -2, 1e-6);
                Straightness.Estimate(straight).Should().BeLessThan(1e-9);
            }
        }
    }

    [Fact]
    public void Constant_field_is_integrated_exactly_by_every_solver_on_both_grids()
    {
        var field = ReferenceFlows.Field((_, _) => new[] { 0.5, -1.5 });
        foreach (var grid in new[] { TimeGrid.Uniform(3), TimeGrid.EpsilonOffset(3) })
        {
            foreach (var solver in OdeSolvers.Append(OdeSolver.FixedNoise))
            {
                var (end, _, path) = Run(new FlowSampler(solver, grid), field, new float[] { 2, 3 }, 2);
                Near(end[0], 2.5, 1e-6);
                Near(end[1], 1.5, 1e-6);
                Straightness.Estimate(path).Should().BeLessThan(1e-9);
            }
        }
    }

    public static TheoryData<OdeSolver, double, double, double> QuadratureTable() => new()
    {
        { OdeSolver.Euler, 0, 0.125, 0.21875 },
        { OdeSolver.Midpoint, 0.25, 0.3125, 0.328125 },
        { OdeSolver.Heun, 0.5, 0.375, 0.34375 },
        { OdeSolver.RungeKutta4, 1.0 / 3, 1.0 / 3, 1.0 / 3 },
    };

    [Theory]
    [MemberData(nameof(QuadratureTable))]
    public void Time_only_field_reduces_to_the_quadrature_rules(OdeSolver solver, double n1, double n2, double n4)
    {
        var field = ReferenceFlows.Field((_, t) => new[] { t * t });
        var expected = new[] { n1, n2, n4 };
        var steps = new[] { 1, 2, 4 };
        for (int i = 0; i < 3; i++)
        {
            var (end, _, _) = Run(new FlowSampler(solver, TimeGrid.Uniform(steps[i])), field, new float[] { 0 }, 1);
            Near(end[0], expected[i]);
        }
    }

    public static TheoryData<OdeSolver, double, double, double, double> LinearTable() => new()
    {
        { OdeSolver.Euler, 2, 2.25, 2.441406, 2.593742 },
        { OdeSolver.Midpoint, 2.5, 2.640625, 2.694856, 2.714081 },
        { OdeSolver.Heun, 2.5, 2.640625, 2.694856, 2.714081 },
        { OdeSolver.RungeKutta4, 2.708333, 2.717346, 2.718210, 2.718280 },
    };

    [Theory]
    [MemberData(nameof(LinearTable))]
    public void Linear_field_matches_spec_8_3(OdeSolver solver, double n1, double n2, double n4, double n10)
    {
        var field = ReferenceFlows.Field((x, _) => new[] { x[0] });
        var expected = new[] { n1, n2, n4, n10 };
        var steps = new[] { 1, 2, 4, 10 };
        for (int i = 0; i < 4; i++)
        {
            var (end, _, _) = Run(new FlowSampler(solver, TimeGrid.Uniform(steps[i])), field, new float[] { 1 }, 1);
            Near(end[0], expected[i]);
        }
    }

    [Theory]
    [InlineData(OdeSolver.Euler, 1, 16)]
    [InlineData(OdeSolver.Midpoint, 2, 16)]
    [InlineData(OdeSolver.Heun, 2, 16)]
    [InlineData(OdeSolver.RungeKutta4, 4, 4)]
    public void Solvers_reach_their_order_of_accuracy_on_a_linear_ode(OdeSolver solver, int order, int n)
    {
        // dz/dt = z, z(0) = 1: log2(e_N / e_2N) → order. N is chosen so both errors are far above float32 rounding.
        var field = ReferenceFlows.Field((x, _) => new[] { x[0] });
        double Error(int steps) => Math.Abs(Run(new FlowSampler(solver, TimeGrid.Uniform(steps)), field, new float[] { 1 }, 1).End[0] - Math.E);
        double observed = Math.Log2(Error(n) / Error(2 * n));
        observed.Should().BeApproximately(order, 0.35);
    }

    public static TheoryData<OdeSolver, int, double, double> EpsilonTable() => new()
    {
        { OdeSolver.Euler, 1, 4.004002, -0.000004 },
        { OdeSolver.Euler, 4, 4.722236, -1.441515 },
        { OdeSolver.Midpoint, 4, 4.999783, -1.997753 },
        { OdeSolver.Heun, 4, 4.991997, -1.981940 },
        { OdeSolver.RungeKutta4, 4, 5.001901, -2.001835 },
    };

    [Theory]
    [MemberData(nameof(EpsilonTable))]
    public void Epsilon_offset_grid_matches_spec_8_4(OdeSolver solver, int steps, double x, double y)
    {
        var (end, _, path) = Run(new FlowSampler(solver, TimeGrid.EpsilonOffset(steps)), GaussianMixtureFlow.GaussianShift(4, 0), new float[] { 1, -2 }, 2);
        Near(end[0], x);
        Near(end[1], y);
        path.Times[^1].Should().Be(1);
    }

    [Fact]
    public void Epsilon_offset_euler_evaluates_at_the_official_times()
    {
        var seen = new List<double>();
        var field = VelocityField.FromDelegate((x, t, d) =>
        {
            seen.Add(t);
            d.CopyFrom(new float[d.Length]);
        });
        Run(new FlowSampler(OdeSolver.Euler, TimeGrid.EpsilonOffset(4)), field, new float[] { 0 }, 1);
        seen.Should().Equal(new[] { 0.001, 0.25075, 0.5005, 0.75025 }, (a, b) => Math.Abs(a - b) < 1e-15);
        seen.Clear();
        Run(new FlowSampler(OdeSolver.Euler, TimeGrid.Uniform(2), timeScale: 999), field, new float[] { 0 }, 1);
        seen.Should().Equal(0, 499.5);
    }

    [Fact]
    public void Fixed_noise_sampler_matches_spec_8_9()
    {
        var field = GaussianMixtureFlow.GaussianShift(4, 0);
        var expected = new Dictionary<int, (double, double)> { [1] = (4, 0), [2] = (4.5, -1), [4] = (4.885, -1.77) };
        foreach (var (n, (x, y)) in expected)
        {
            var (end, result, _) = Run(new FlowSampler(OdeSolver.FixedNoise, TimeGrid.Uniform(n)), field, new float[] { 1, -2 }, 2);
            Near(end[0], x);
            Near(end[1], y);
            result.FunctionEvaluations.Should().Be(n);
        }
    }

    public static TheoryData<OdeSolver, int, double, double> MixtureTable() => new()
    {
        { OdeSolver.Euler, 1, 0, -0.446582 },
        { OdeSolver.Euler, 4, 2.544991, 9.547029 },
        { OdeSolver.Midpoint, 4, 2.421016, 10.088560 },
        { OdeSolver.Heun, 4, 1.082532, 7.616779 },
        { OdeSolver.RungeKutta4, 4, 1.044060, 8.382323 },
        { OdeSolver.RungeKutta4, 16, 0.702260, 8.253257 },
        { OdeSolver.RungeKutta4, 1000, 0.698628, 8.250522 },
    };

    [Theory]
    [MemberData(nameof(MixtureTable))]
    public void Triangle_mixture_trajectory_matches_spec_8_5(OdeSolver solver, int steps, double x, double y)
    {
        var field = new GaussianMixtureFlow(GaussianMixture.TriangleSource(), GaussianMixture.TriangleTarget());
        var (end, _, _) = Run(new FlowSampler(solver, TimeGrid.Uniform(steps)), field, new[] { (float)(5 * Math.Sqrt(3)), 5f }, 2);

        // The field turns sharply (|∂v/∂x| up to ~30), so float32 rounding of the start and of each step is amplified.
        Near(end[0], x, 2e-3);
        Near(end[1], y, 2e-3);
    }

    [Fact]
    public void Triangle_mixture_straightness_matches_spec_8_5()
    {
        var field = new GaussianMixtureFlow(GaussianMixture.TriangleSource(), GaussianMixture.TriangleTarget());
        var (_, _, path) = Run(FlowSampler.Euler(2000), field, new[] { (float)(5 * Math.Sqrt(3)), 5f }, 2);
        Straightness.Estimate(path).Should().BeApproximately(15.93, 0.2);
    }

    [Fact]
    public void Random_batches_match_the_float64_reference_solver()
    {
        var field = new GaussianMixtureFlow(GaussianMixture.TriangleSource(), GaussianMixture.TriangleTarget());
        HostVelocity host = (x, t) =>
        {
            var v = new double[2];
            field.Evaluate(x, t, v);
            return v;
        };
        var random = new Xoshiro256StarStar(7);
        var z0 = new float[2 * 33];
        GaussianMixture.TriangleSource().Sample(random, z0);
        foreach (var solver in OdeSolvers.Append(OdeSolver.FixedNoise))
        {
            foreach (var grid in new[] { TimeGrid.Uniform(8), TimeGrid.EpsilonOffset(5, 0.01), TimeGrid.Custom(1e-5, 0.25, 0.5, 1) })
            {
                var (end, _, path) = Run(new FlowSampler(solver, grid), field, z0, 2);
                var times = Enumerable.Range(0, grid.Steps + 1).Select(grid.Time).ToArray();
                var straightness = new double[33];
                Straightness.EstimatePerSample(path, straightness);
                for (int r = 0; r < 33; r++)
                {
                    var refPath = new List<double[]>();
                    var expected = ReferenceFlows.Solve(solver, host, new double[] { z0[2 * r], z0[(2 * r) + 1] }, times, grid.Epsilon, refPath);
                    Near(end[2 * r], expected[0], 1e-3);
                    Near(end[(2 * r) + 1], expected[1], 1e-3);
                    Near(straightness[r], ReferenceFlows.Straightness(refPath, times), 1e-2);
                }
            }
        }
    }

    [Theory]
    [InlineData(OdeSolver.Euler)]
    [InlineData(OdeSolver.Midpoint)]
    [InlineData(OdeSolver.Heun)]
    [InlineData(OdeSolver.RungeKutta4)]
    public void Backward_integration_inverts_the_forward_run(OdeSolver solver)
    {
        var field = GaussianMixtureFlow.GaussianShift(4, 0);
        var sampler = new FlowSampler(solver, TimeGrid.Uniform(solver == OdeSolver.Euler ? 1 : 64));
        using var state = Create(new float[] { 1, -2, 0.5f, 0.25f }, 2, 2);
        var path = new FlowTrajectory();
        sampler.Sample(field, state, FlowDirection.Forward);
        sampler.Sample(field, state, FlowDirection.Backward, path);
        path.Times[0].Should().Be(1);
        path.Times[^1].Should().Be(0);
        var end = state.ToArray();
        if (solver == OdeSolver.Euler)
        {
            // One Euler step maps everything to μ; the backward Euler step from μ uses v*(μ, 1) = μ, so it lands at 0.
            end.Should().Equal(0f, 0f, 0f, 0f);
            return;
        }

        double tolerance = solver == OdeSolver.RungeKutta4 ? 1e-5 : 1e-3;
        Near(end[0], 1, tolerance);
        Near(end[1], -2, tolerance);
        Near(end[2], 0.5, tolerance);
        Near(end[3], 0.25, tolerance);
    }

    [Fact]
    public void Heun_skip_final_correction_uses_an_euler_last_step()
    {
        var field = VelocityField.Counting(ReferenceFlows.Field((_, t) => new[] { t * t }));
        var sampler = new FlowSampler(OdeSolver.Heun, TimeGrid.Uniform(2), skipFinalCorrection: true);
        sampler.FunctionEvaluations.Should().Be(3);
        var (end, result, _) = Run(sampler, field, new float[] { 0 }, 1);
        result.FunctionEvaluations.Should().Be(3);
        field.Evaluations.Should().Be(3);

        // Trapezoid on [0, ½] (1/16) plus a left Riemann step on [½, 1] (1/8).
        Near(end[0], 0.0625 + 0.125);
    }

    [Fact]
    public void Dopri5_single_step_matches_spec_8_3()
    {
        var field = ReferenceFlows.Field((x, _) => new[] { x[0] });
        using var y = Create(new float[] { 1 }, 1, 1);
        using var work = new Dopri5Sampler.Workspace(y);
        field.Evaluate(y, 0, work.K[0]);
        new Dopri5Sampler().TryStep(field, y, 0, 1, work);
        double y5 = work.Y5.ToArray()[0];
        Near(y5, 2.718333, 2e-7);
        Near(y5 - work.Error.ToArray()[0], 2.718858, 2e-7);
        y.ToArray()[0].Should().Be(1);
    }

    [Fact]
    public void Dopri5_adaptive_runs_land_within_1e_4()
    {
        var sampler = new Dopri5Sampler();
        var linear = ReferenceFlows.Field((x, _) => new[] { x[0] });
        using (var state = Create(new float[] { 1 }, 1, 1))
        {
            var trajectory = new FlowTrajectory();
            var r = sampler.Sample(linear, state, FlowDirection.Forward, trajectory);
            state.ToArray()[0].Should().BeApproximately((float)Math.E, 1e-4f);
            ((r.FunctionEvaluations - 1) % 6).Should().Be(0);
            r.FunctionEvaluations.Should().BeGreaterThanOrEqualTo(1 + (6 * r.Steps));
            trajectory.Times[^1].Should().Be(1);
            r.Steps.Should().Be(trajectory.Count - 1);
        }

        using (var state = Create(new float[] { 1, -2 }, 1, 2))
        {
            sampler.Sample(GaussianMixtureFlow.GaussianShift(4, 0), state);
            var z = state.ToArray();
            z[0].Should().BeApproximately(5f, 1e-4f);
            z[1].Should().BeApproximately(-2f, 1e-4f);
            sampler.Sample(GaussianMixtureFlow.GaussianShift(4, 0), state, FlowDirection.Backward);
            z = state.ToArray();
            z[0].Should().BeApproximately(1f, 2e-4f);
            z[1].Should().BeApproximately(-2f, 2e-4f);
        }

        using (var state = Create(new float[] { 0 }, 1, 1))
        {
            sampler.Sample(ReferenceFlows.Field((_, t) => new[] { t * t }), state);
            state.ToArray()[0].Should().BeApproximately(1f / 3, 1e-4f);
        }

        using (var state = Create(new float[] { 1 }, 1, 1))
        {
            FluentActions.Invoking(() => new Dopri5Sampler(maxSteps: 1).Sample(linear, state)).Should().Throw<InvalidOperationException>();
        }

        FluentActions.Invoking(() => new Dopri5Sampler(relativeTolerance: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("relativeTolerance");
        FluentActions.Invoking(() => new Dopri5Sampler(absoluteTolerance: -1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("absoluteTolerance");
        FluentActions.Invoking(() => new Dopri5Sampler(maxSteps: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxSteps");
        FluentActions.Invoking(() => new Dopri5Sampler(start: 0.5, end: 0.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("end");
    }

    [Fact]
    public void Invalid_arguments_throw()
    {
        FluentActions.Invoking(() => TimeGrid.Uniform(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => TimeGrid.EpsilonOffset(2, 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("epsilon");
        FluentActions.Invoking(() => TimeGrid.EpsilonOffset(2, double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => TimeGrid.Custom(0.5)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("times");
        FluentActions.Invoking(() => TimeGrid.Custom(0, 0.5, 0.5)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => TimeGrid.Custom(0, 1.5)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new FlowSampler(OdeSolver.Euler, TimeGrid.Uniform(1), timeScale: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timeScale");
        FluentActions.Invoking(() => new FlowSampler((OdeSolver)99, TimeGrid.Uniform(1))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("solver");
        FluentActions.Invoking(() => new FlowSampler(OdeSolver.Euler, null!)).Should().Throw<ArgumentNullException>();
        using var state = Create(new float[] { 1 }, 1, 1);
        var sampler = FlowSampler.Euler(1);
        FluentActions.Invoking(() => sampler.Sample(null!, state)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new FlowSampler(OdeSolver.FixedNoise, TimeGrid.Uniform(1)).Sample(GaussianMixtureFlow.GaussianShift(1), state, FlowDirection.Backward))
            .Should().Throw<NotSupportedException>();
    }

    [Fact]
    public void A_non_finite_velocity_is_reported()
    {
        var field = ReferenceFlows.Field((_, _) => new[] { double.NaN });
        using var state = Create(new float[] { 1 }, 1, 1);
        FluentActions.Invoking(() => FlowSampler.Euler(2).Sample(field, state)).Should().Throw<InvalidLogitsException>();
    }
}

public sealed class CpuFlowSamplerTests : FlowSamplerTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}
