using System;

namespace Logits.Samples.ClassicLogits;

/// <summary>
/// The comparator of the naive Bayes experiment: binary L2-regularised logistic regression on the mean cross-entropy,
/// solved by Newton's method with a backtracking line search to a gradient norm of 1e-8.
/// </summary>
/// <remarks>
/// A 2-row softmax with penalty <c>(λ/2)·‖W‖²</c> over both rows (λ = 1/(C·m), C = 1, intercepts unpenalised) has its
/// optimum at <c>W₁ = −W₀ = w/2</c>, so it equals the binary model on <c>w = W₁ − W₀</c> with penalty <c>(λ/4)·‖w‖²</c>:
/// <c>F(w, b) = (1/m)·Σ_r softplus(−y_r·(wᵀx_r + b)) + (λ/4)·‖w‖²</c>, <c>y_r ∈ {−1, +1}</c>.
/// </remarks>
internal static class RegularizedLogisticRegression
{
    /// <summary>Fits (w, b); returns the parameters as <c>[w_0 … w_{n−1}, b]</c>.</summary>
    public static double[] Fit(double[] features, int[] labels, int n, double inverseRegularization = 1)
    {
        int m = labels.Length;
        int p = n + 1;
        double quarterLambda = 1 / (inverseRegularization * m) / 4;
        var theta = new double[p];
        var gradient = new double[p];
        var hessian = new double[p * p];
        var step = new double[p];
        var trial = new double[p];
        double value = Objective(features, labels, n, theta, quarterLambda);
        for (int iteration = 0; iteration < 200; iteration++)
        {
            Array.Clear(gradient);
            Array.Clear(hessian);
            for (int r = 0; r < m; r++)
            {
                var x = features.AsSpan(r * n, n);
                double margin = labels[r] * (Dot(x, theta) + theta[n]);
                double sigmaNeg = Math.Exp(-Softplus(margin)); // σ(−margin)
                double curvature = sigmaNeg * (1 - sigmaNeg) / m;
                double g = -labels[r] * sigmaNeg / m;
                for (int i = 0; i < p; i++)
                {
                    double xi = i < n ? x[i] : 1;
                    gradient[i] += g * xi;
                    for (int j = 0; j <= i; j++)
                    {
                        hessian[(i * p) + j] += curvature * xi * (j < n ? x[j] : 1);
                    }
                }
            }

            double norm = 0;
            for (int i = 0; i < p; i++)
            {
                if (i < n)
                {
                    gradient[i] += 2 * quarterLambda * theta[i];
                    hessian[(i * p) + i] += 2 * quarterLambda;
                }

                norm += gradient[i] * gradient[i];
            }

            if (Math.Sqrt(norm) <= 1e-8)
            {
                break;
            }

            // A whisper of damping on the unpenalised intercept keeps the Cholesky factorisation positive.
            hessian[(n * p) + n] += 1e-12;
            SolveCholesky(hessian, p, gradient, step);
            double slope = 0;
            for (int i = 0; i < p; i++)
            {
                slope -= gradient[i] * step[i];
            }

            double t = 1;
            double next;
            while (true)
            {
                for (int i = 0; i < p; i++)
                {
                    trial[i] = theta[i] - (t * step[i]);
                }

                next = Objective(features, labels, n, trial, quarterLambda);
                if (next <= value + (1e-4 * t * slope) || t < 1e-10)
                {
                    break;
                }

                t *= 0.5;
            }

            Array.Copy(trial, theta, p);
            value = next;
        }

        return theta;
    }

    /// <summary>The sign of <c>wᵀx + b</c> as a class (1 when positive, else 0).</summary>
    public static int Predict(double[] theta, ReadOnlySpan<double> x) => Dot(x, theta) + theta[x.Length] > 0 ? 1 : 0;

    private static double Objective(double[] features, int[] labels, int n, double[] theta, double quarterLambda)
    {
        double total = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            total += Softplus(-labels[r] * (Dot(features.AsSpan(r * n, n), theta) + theta[n]));
        }

        double penalty = 0;
        for (int i = 0; i < n; i++)
        {
            penalty += theta[i] * theta[i];
        }

        return (total / labels.Length) + (quarterLambda * penalty);
    }

    private static double Dot(ReadOnlySpan<double> x, double[] theta)
    {
        double total = 0;
        for (int i = 0; i < x.Length; i++)
        {
            total += x[i] * theta[i];
        }

        return total;
    }

    private static double Softplus(double u) => Math.Max(u, 0) + Math.Log(1 + Math.Exp(-Math.Abs(u)));

    /// <summary>Solves H·s = g for symmetric positive-definite H (lower triangle filled).</summary>
    private static void SolveCholesky(double[] h, int p, double[] g, double[] s)
    {
        var l = new double[p * p];
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double sum = h[(i * p) + j];
                for (int k = 0; k < j; k++)
                {
                    sum -= l[(i * p) + k] * l[(j * p) + k];
                }

                l[(i * p) + j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-300)) : sum / l[(j * p) + j];
            }
        }

        var y = new double[p];
        for (int i = 0; i < p; i++)
        {
            double sum = g[i];
            for (int k = 0; k < i; k++)
            {
                sum -= l[(i * p) + k] * y[k];
            }

            y[i] = sum / l[(i * p) + i];
        }

        for (int i = p - 1; i >= 0; i--)
        {
            double sum = y[i];
            for (int k = i + 1; k < p; k++)
            {
                sum -= l[(k * p) + i] * s[k];
            }

            s[i] = sum / l[(i * p) + i];
        }
    }
}
