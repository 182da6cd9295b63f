using System;
using System.Linq;
using Logits.Distillation;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// Slow, obviously correct double-precision references of the distillation losses (docs/algorithms/paper-methods.md#aligndistil,
/// docs/algorithms/paper-methods.md#dual-head-kd), written straight from the formulas with no shared code with the library.
/// </summary>
public static class ReferenceDistillation
{
    /// <summary>Max-shifted softmax in double.</summary>
    public static double[] Softmax(double[] z)
    {
        double m = z.Max();
        var e = z.Select(v => Math.Exp(v - m)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    /// <summary>Max-shifted log-softmax in double.</summary>
    public static double[] LogSoftmax(double[] z)
    {
        double m = z.Max();
        double lse = m + Math.Log(z.Sum(v => Math.Exp(v - m)));
        return z.Select(v => v - lse).ToArray();
    }

    /// <summary>AlignDistil per-token values: (D, alpha, weight, KL, loss), and the teacher logits.</summary>
    public static (double D, double Alpha, double Weight, double KL, double Loss, double[] Teacher) AlignDistilToken(
        double[] zs, double[] zd, double[] z2, AlignDistilOptions o)
    {
        double d = double.NaN, alpha, weight;
        double[] teacher;
        if (o.TeacherForm is AlignDistilTeacherForm.AdaptiveExtrapolation or AlignDistilTeacherForm.AdaptiveInterpolation)
        {
            var pd = Softmax(zd);
            var p2 = Softmax(z2);
            double l1 = pd.Zip(p2, (a, b) => Math.Abs(a - b)).Sum();
            d = o.Convention == TvdConvention.HalfL1 ? l1 / 2 : l1;
            alpha = (o.Scale * d) + o.Epsilon;
            weight = o.Beta0 / alpha;
            teacher = o.TeacherForm == AlignDistilTeacherForm.AdaptiveExtrapolation
                ? zd.Select((v, i) => v + (alpha * (v - z2[i]))).ToArray()
                : zd.Select((v, i) => (alpha * v) + ((1 - alpha) * z2[i])).ToArray();
        }
        else if (o.TeacherForm is AlignDistilTeacherForm.Theorem1Interpolation or AlignDistilTeacherForm.FixedContrastive)
        {
            alpha = o.Beta0 / o.Beta!.Value;
            weight = o.Beta.Value;
            double w = alpha;
            teacher = o.TeacherForm == AlignDistilTeacherForm.FixedContrastive
                ? zd.Select((v, i) => v + (w * (v - z2[i]))).ToArray()
                : zd.Select((v, i) => (w * v) + ((1 - w) * z2[i])).ToArray();
        }
        else
        {
            alpha = 0;
            weight = 1;
            teacher = zd.ToArray();
        }

        var logT = LogSoftmax(teacher.Select(v => v / o.Temperature).ToArray());
        var logS = LogSoftmax(zs.Select(v => v / o.Temperature).ToArray());
        double kl = 0;
        for (int i = 0; i < zs.Length; i++)
        {
            double p = Math.Exp(logS[i]);
            if (p > 0)
            {
                kl += p * (logS[i] - logT[i]);
            }
        }

        return (d, alpha, weight, kl, weight * kl, teacher);
    }

    /// <summary>log cosh(u), exact in double (cosh overflows beyond ~710, where log cosh = |u| − ln 2 to double precision).</summary>
    public static double LogCosh(double u) => Math.Abs(u) < 300 ? Math.Log(Math.Cosh(u)) : Math.Abs(u) - Math.Log(2);

    /// <summary>BinaryKL-Norm: (T²/N) Σ log cosh(clamp(Δ/T)/2).</summary>
    public static double BinaryKLNorm(double[] s, double[] t, int classes, double temperature, bool clamp)
    {
        double c = Math.Log((1 - 1e-8) / 1e-8);
        double sum = 0;
        for (int i = 0; i < s.Length; i++)
        {
            double x = (s[i] - t[i]) / temperature;
            if (clamp)
            {
                x = Math.Clamp(x, -c, c);
            }

            sum += LogCosh(x / 2);
        }

        return temperature * temperature * sum / (s.Length / classes);
    }

    /// <summary>log σ(x) without overflow.</summary>
    public static double LogSigmoid(double x) => x >= 0 ? -Math.Log(1 + Math.Exp(-x)) : x - Math.Log(1 + Math.Exp(x));

    /// <summary>BinaryKL: (T²/N) Σ t(log t − log s) + (1−t)(log(1−t) − log(1−s)).</summary>
    public static double BinaryKL(double[] s, double[] t, int classes, double temperature, bool clamp)
    {
        double c = Math.Log((1 - 1e-8) / 1e-8);
        double sum = 0;
        for (int i = 0; i < s.Length; i++)
        {
            double xs = s[i] / temperature, xt = t[i] / temperature;
            if (clamp)
            {
                xs = Math.Clamp(xs, -c, c);
                xt = Math.Clamp(xt, -c, c);
            }

            double tp = 1 / (1 + Math.Exp(-xt));
            sum += (tp * (LogSigmoid(xt) - LogSigmoid(xs))) + ((1 - tp) * (LogSigmoid(-xt) - LogSigmoid(-xs)));
        }

        return temperature * temperature * sum / (s.Length / classes);
    }

    /// <summary>Softmax KD: (T²/N) Σ_n KL(softmax(t/T) ‖ softmax(s/T)).</summary>
    public static double SoftmaxKD(double[] s, double[] t, int classes, double temperature)
    {
        int rows = s.Length / classes;
        double sum = 0;
        for (int n = 0; n < rows; n++)
        {
            var ls = LogSoftmax(s.Skip(n * classes).Take(classes).Select(v => v / temperature).ToArray());
            var lt = LogSoftmax(t.Skip(n * classes).Take(classes).Select(v => v / temperature).ToArray());
            for (int k = 0; k < classes; k++)
            {
                double p = Math.Exp(lt[k]);
                if (p > 0)
                {
                    sum += p * (lt[k] - ls[k]);
                }
            }
        }

        return temperature * temperature * sum / rows;
    }

    /// <summary>Mean cross-entropy.</summary>
    public static double CrossEntropy(double[] z, int[] labels, int classes)
    {
        double sum = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            sum -= LogSoftmax(z.Skip(n * classes).Take(classes).ToArray())[labels[n]];
        }

        return sum / labels.Length;
    }

    /// <summary>Central finite-difference gradient of a scalar function of a vector, in double.</summary>
    public static double[] FiniteDifference(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var plus = x.ToArray();
            var minus = x.ToArray();
            plus[i] += h;
            minus[i] -= h;
            g[i] = (f(plus) - f(minus)) / (2 * h);
        }

        return g;
    }

    /// <summary>Finite random logits (no −∞) of a shape, with the styles of <see cref="LogitData.Random"/> where finite.</summary>
    public static float[] FiniteLogits(int rows, int vocab, int seed)
    {
        var data = LogitData.Random(rows, vocab, seed);
        var rng = new Random(seed ^ 0x5bd1e995);
        for (int i = 0; i < data.Length; i++)
        {
            if (float.IsNegativeInfinity(data[i]))
            {
                data[i] = (float)((rng.NextDouble() * 40) - 30);
            }
        }

        return data;
    }
}
