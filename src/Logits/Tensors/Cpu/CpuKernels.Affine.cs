using System.Numerics;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void Affine(float a, LogitBatch x, float b, LogitBatch? y, float c, LogitBatch? z, LogitBatch destination)
    {
        var first = AsCpu(x, nameof(x));
        var target = AsCpuLike(first, destination, nameof(destination));
        EnsureFiniteCoefficient(a, nameof(a));
        EnsureFiniteCoefficient(b, nameof(b));
        EnsureFiniteCoefficient(c, nameof(c));

        // Terms with a zero coefficient are dropped, so 0 * (-inf) never turns into NaN.
        var terms = new AffineTerms();
        if (a != 0)
        {
            terms.Add(a, first.Storage);
        }

        if (b != 0)
        {
            ArgumentNullException.ThrowIfNull(y);
            terms.Add(b, AsCpuLike(first, y, nameof(y)).Storage);
        }

        if (c != 0)
        {
            ArgumentNullException.ThrowIfNull(z);
            terms.Add(c, AsCpuLike(first, z, nameof(z)).Storage);
        }

        target.Support?.ForgetAll();
        RowRunner.Run(first.Rows, first.Vocab, new AffineJob(terms, target.Storage, first.Vocab));
    }

    private static void EnsureFiniteCoefficient(float value, string paramName)
    {
        if (!float.IsFinite(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite");
        }
    }

    /// <summary>Up to three (coefficient, batch) pairs with non-zero coefficients.</summary>
    private struct AffineTerms
    {
        public int Count;
        public float C0;
        public float C1;
        public float C2;
        public Memory<float> T0;
        public Memory<float> T1;
        public Memory<float> T2;

        public void Add(float coefficient, Memory<float> values)
        {
            switch (Count++)
            {
                case 0: C0 = coefficient; T0 = values; break;
                case 1: C1 = coefficient; T1 = values; break;
                default: C2 = coefficient; T2 = values; break;
            }
        }
    }

    private readonly struct AffineJob(AffineTerms terms, Memory<float> destination, int vocab) : IRowJob
    {
        public void Run(int row)
        {
            int start = row * vocab;
            var target = destination.Span.Slice(start, vocab);
            if (terms.Count == 0)
            {
                target.Clear();
                return;
            }

            AffineRow(
                terms.Count,
                terms.C0,
                terms.T0.Span.Slice(start, vocab),
                terms.C1,
                terms.Count > 1 ? terms.T1.Span.Slice(start, vocab) : default,
                terms.C2,
                terms.Count > 2 ? terms.T2.Span.Slice(start, vocab) : default,
                target,
                row);
        }
    }

    /// <summary><c>destination = c0·t0 (+ c1·t1) (+ c2·t2)</c> for <paramref name="count"/> terms, checks fused.</summary>
    internal static void AffineRow(
        int count, float c0, ReadOnlySpan<float> t0, float c1, ReadOnlySpan<float> t1, float c2, ReadOnlySpan<float> t2, Span<float> destination, int row)
    {
        int i = 0;
        int n = t0.Length;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var v0 = new Vector<float>(c0);
            var v1 = new Vector<float>(c1);
            var v2 = new Vector<float>(c2);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var x0 = new Vector<float>(t0.Slice(i));
                var result = v0 * x0;
                bool invalid = RowMath.AnyInvalid(x0);
                if (count > 1)
                {
                    var x1 = new Vector<float>(t1.Slice(i));
                    result += v1 * x1;
                    invalid |= RowMath.AnyInvalid(x1);
                    if (count > 2)
                    {
                        var x2 = new Vector<float>(t2.Slice(i));
                        result += v2 * x2;
                        invalid |= RowMath.AnyInvalid(x2);
                    }
                }

                if (invalid || RowMath.AnyInvalid(result))
                {
                    AffineScalar(count, c0, t0, c1, t1, c2, t2, destination, row, i, i + Vector<float>.Count);
                    continue;
                }

                result.CopyTo(destination.Slice(i));
            }
        }

        AffineScalar(count, c0, t0, c1, t1, c2, t2, destination, row, i, n);
    }

    private static void AffineScalar(
        int count, float c0, ReadOnlySpan<float> t0, float c1, ReadOnlySpan<float> t1, float c2, ReadOnlySpan<float> t2, Span<float> destination, int row, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            CheckInput(t0[i], row, i);
            float result = c0 * t0[i];
            if (count > 1)
            {
                CheckInput(t1[i], row, i);
                result += c1 * t1[i];
                if (count > 2)
                {
                    CheckInput(t2[i], row, i);
                    result += c2 * t2[i];
                }
            }

            if (RowMath.IsInvalid(result))
            {
                ThrowHelper.ThrowInvalidLogits(row, i, result, "affine");
            }

            destination[i] = result;
        }

        static void CheckInput(float value, int row, int index)
        {
            if (RowMath.IsInvalid(value))
            {
                ThrowHelper.ThrowInvalidLogits(row, index, value, "input");
            }
        }
    }
}
