
namespace Logits.Optimization;

/// <summary>Minimum-norm least squares through a one-sided (Hestenes) Jacobi SVD, in float64.</summary>
/// <remarks>Never forms AᵀA or its inverse. Singular values at or below <see cref="RankTolerance"/>·σ_max count as 0,
/// so a rank-deficient A gives the Moore–Penrose solution (the minimum-norm one).</remarks>
internal static class LeastSquares
{
    /// <summary>The relative rank tolerance, 1e-12·σ_max.</summary>
    public const double RankTolerance = 1e-12;

    /// <summary><c>x = A⁺·b</c>: A row-major <c>[rows, cols]</c>, b row-major <c>[rows, width]</c>, x row-major <c>[cols, width]</c>.</summary>
    public static void MinimumNormSolve(ReadOnlySpan<double> a, int rows, int cols, ReadOnlySpan<double> b, int width, Span<double> destination)
    {
        var (u, sigma, v) = Decompose(a, rows, cols);
        double max = 0;
        foreach (double s in sigma)
        {
            max = Math.Max(max, s);
        }

        double threshold = RankTolerance * max;
        destination[..(cols * width)].Clear();
        var coefficient = new double[width];
        for (int q = 0; q < cols; q++)
        {
            if (!(sigma[q] > threshold))
            {
                continue;
            }

            // With the unnormalised column u_q = σ_q·û_q: c = û_qᵀ·b / σ_q = u_qᵀ·b / σ_q², then x += v_q·c.
            coefficient.AsSpan().Clear();
            var uq = u.AsSpan(q * rows, rows);
            double inverse = 1 / (sigma[q] * sigma[q]);
            for (int r = 0; r < rows; r++)
            {
                double ur = uq[r] * inverse;
                var br = b.Slice(r * width, width);
                for (int k = 0; k < width; k++)
                {
                    coefficient[k] += ur * br[k];
                }
            }

            var vq = v.AsSpan(q * cols, cols);
            for (int j = 0; j < cols; j++)
            {
                var xj = destination.Slice(j * width, width);
                for (int k = 0; k < width; k++)
                {
                    xj[k] += vq[j] * coefficient[k];
                }
            }
        }
    }

    /// <summary>σ_max(A).</summary>
    public static double LargestSingularValue(ReadOnlySpan<double> a, int rows, int cols)
    {
        var (_, sigma, _) = Decompose(a, rows, cols);
        double max = 0;
        foreach (double s in sigma)
        {
            max = Math.Max(max, s);
        }

        return max;
    }

    /// <summary>A = U·diag(σ)·Vᵀ; U's columns (stored contiguously, unnormalised until the end) and V's columns.</summary>
    private static (double[] U, double[] Sigma, double[] V) Decompose(ReadOnlySpan<double> a, int rows, int cols)
    {
        var u = new double[rows * cols]; // column q at [q*rows, (q+1)*rows)
        for (int r = 0; r < rows; r++)
        {
            for (int q = 0; q < cols; q++)
            {
                u[(q * rows) + r] = a[(r * cols) + q];
            }
        }

        var v = new double[cols * cols]; // column q at [q*cols, (q+1)*cols)
        for (int q = 0; q < cols; q++)
        {
            v[(q * cols) + q] = 1;
        }

        for (int sweep = 0; sweep < 80; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < cols - 1; p++)
            {
                for (int q = p + 1; q < cols; q++)
                {
                    var up = u.AsSpan(p * rows, rows);
                    var uq = u.AsSpan(q * rows, rows);
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int r = 0; r < rows; r++)
                    {
                        alpha += up[r] * up[r];
                        beta += uq[r] * uq[r];
                        gamma += up[r] * uq[r];
                    }

                    // Columns already orthogonal to working precision are left alone.
                    if (gamma == 0 || Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta))
                    {
                        continue;
                    }

                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + (zeta * zeta)));
                    if (zeta == 0)
                    {
                        t = 1;
                    }

                    double c = 1 / Math.Sqrt(1 + (t * t));
                    double s = c * t;
                    Rotate(up, uq, c, s);
                    Rotate(v.AsSpan(p * cols, cols), v.AsSpan(q * cols, cols), c, s);
                }
            }

            if (!rotated)
            {
                break;
            }
        }

        var sigma = new double[cols];
        for (int q = 0; q < cols; q++)
        {
            double norm = 0;
            foreach (double x in u.AsSpan(q * rows, rows))
            {
                norm += x * x;
            }

            sigma[q] = Math.Sqrt(norm);
        }

        return (u, sigma, v);
    }

    private static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double a = x[i], b = y[i];
            x[i] = (c * a) - (s * b);
            y[i] = (s * a) + (c * b);
        }
    }
}
