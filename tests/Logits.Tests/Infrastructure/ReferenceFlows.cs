using System.Collections.Generic;
using Logits.Flows;

namespace Logits.Tests.Infrastructure;

/// <summary>A host velocity function of one sample in float64: <c>(x, t) → v</c>.</summary>
public delegate double[] HostVelocity(double[] x, double t);

/// <summary>Slow, obviously correct float64 references for the flow samplers (docs/algorithms/flows.md#ode-solvers, docs/algorithms/flows.md#straightness).</summary>
public static class ReferenceFlows
{
    /// <summary>A field that applies <paramref name="velocity"/> row by row on the host (works on every backend).</summary>
    public static IVelocityField Field(HostVelocity velocity) => VelocityField.FromDelegate((x, t, destination) =>
    {
        float[] values = x.ToArray();
        var output = new float[values.Length];
        for (int r = 0; r < x.Rows; r++)
        {
            var point = new double[x.Vocab];
            for (int i = 0; i < x.Vocab; i++)
            {
                point[i] = values[(r * x.Vocab) + i];
            }

            double[] v = velocity(point, t);
            for (int i = 0; i < x.Vocab; i++)
            {
                output[(r * x.Vocab) + i] = (float)v[i];
            }
        }

        destination.CopyFrom(output);
    });

    /// <summary>Integrates one sample in float64 with the solver table on the given grid times and map.</summary>
    public static double[] Solve(OdeSolver solver, HostVelocity v, double[] z0, double[] times, double epsilon = 0, List<double[]>? trajectory = null)
    {
        double G(double tau) => epsilon + ((1 - epsilon) * tau);
        double[] Add(double[] a, double s, double[] b)
        {
            var r = new double[a.Length];
            for (int i = 0; i < a.Length; i++)
            {
                r[i] = a[i] + (s * b[i]);
            }

            return r;
        }

        var z = (double[])z0.Clone();
        trajectory?.Add((double[])z.Clone());
        for (int s = 0; s + 1 < times.Length; s++)
        {
            double tau = times[s];
            double next = times[s + 1];
            double h = next - tau;
            var k1 = v(z, G(tau));
            switch (solver)
            {
                case OdeSolver.Euler:
                    z = Add(z, h, k1);
                    break;
                case OdeSolver.Midpoint:
                    z = Add(z, h, v(Add(z, h / 2, k1), G(tau + (h / 2))));
                    break;
                case OdeSolver.Heun:
                    var k2 = v(Add(z, h, k1), G(next));
                    z = Add(Add(z, h / 2, k1), h / 2, k2);
                    break;
                case OdeSolver.RungeKutta4:
                    var b2 = v(Add(z, h / 2, k1), G(tau + (h / 2)));
                    var b3 = v(Add(z, h / 2, b2), G(tau + (h / 2)));
                    var b4 = v(Add(z, h, b3), G(next));
                    for (int i = 0; i < z.Length; i++)
                    {
                        z[i] += h * (k1[i] + (2 * b2[i]) + (2 * b3[i]) + b4[i]) / 6;
                    }

                    break;
                default:
                    var xhat = Add(z, 1 - tau, k1);
                    for (int i = 0; i < z.Length; i++)
                    {
                        z[i] = (next * xhat[i]) + ((1 - next) * z0[i]);
                    }

                    break;
            }

            trajectory?.Add((double[])z.Clone());
        }

        return z;
    }

    /// <summary>Uniform grid times i/N.</summary>
    public static double[] UniformTimes(int n)
    {
        var times = new double[n + 1];
        for (int i = 0; i <= n; i++)
        {
            times[i] = (double)i / n;
        }

        return times;
    }

    /// <summary>The straightness estimator for one sample, written from the formula.</summary>
    public static double Straightness(List<double[]> path, double[] times)
    {
        int n = path.Count - 1;
        double span = times[n] - times[0];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double h = times[i + 1] - times[i];
            double sq = 0;
            for (int j = 0; j < path[0].Length; j++)
            {
                double d = ((path[n][j] - path[0][j]) / span) - ((path[i + 1][j] - path[i][j]) / h);
                sq += d * d;
            }

            total += h * sq;
        }

        return total / span;
    }
}
