using System;
using System.Collections.Generic;
using Logits.Diffusion;
using Logits.Tensors;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// The exact-oracle "network" of the discrete-diffusion tests: the exact conditionals c(y | x) of a first-order Markov
/// chain over V = 3 tokens, computed by forward–backward in float64 and memoised per state. Rows of width
/// <see cref="RowWidth"/> hold ln c in the real-token columns; the mask column (if inside the row) holds 9 and unmasked
/// positions hold 0.
/// </summary>
public sealed class MarkovChainOracle : ITimeIndependentDenoiser, IMaskPredictor
{
    public static readonly double[] Initial = { 0.5, 0.3, 0.2 };

    public static readonly double[,] Transition =
    {
        { 0.70, 0.20, 0.10 },
        { 0.15, 0.70, 0.15 },
        { 0.10, 0.20, 0.70 },
    };

    private readonly Func<float[], int, int, LogitBatch> _create;
    private readonly double[,] _transition;
    private readonly Dictionary<long, double[]> _memo = new();

    public MarkovChainOracle(Func<float[], int, int, LogitBatch> create, int length = 4, bool product = false, int rowWidth = 3)
    {
        _create = create;
        Length = length;
        RowWidth = rowWidth;
        _transition = new double[3, 3];
        for (int a = 0; a < 3; a++)
        {
            for (int b = 0; b < 3; b++)
            {
                _transition[a, b] = product ? Initial[b] : Transition[a, b];
            }
        }
    }

    public int Vocabulary => 3;

    public int MaskId => 3;

    public int Length { get; }

    public int RowWidth { get; }

    /// <summary>Sequences evaluated so far (a call on B sequences counts B).</summary>
    public long Calls { get; private set; }

    /// <summary>p(x) of a full sequence.</summary>
    public double Probability(ReadOnlySpan<int> x)
    {
        double p = Initial[x[0]];
        for (int i = 1; i < x.Length; i++)
        {
            p *= _transition[x[i - 1], x[i]];
        }

        return p;
    }

    /// <summary>The exact law over all 3^L sequences, indexed base 3 with position 0 most significant.</summary>
    public double[] Law()
    {
        int count = (int)Math.Pow(3, Length);
        var law = new double[count];
        var x = new int[Length];
        for (int c = 0; c < count; c++)
        {
            Decode(c, x);
            law[c] = Probability(x);
        }

        return law;
    }

    public static int Encode(ReadOnlySpan<int> x)
    {
        int c = 0;
        foreach (int t in x)
        {
            c = (c * 3) + t;
        }

        return c;
    }

    public static void Decode(int code, Span<int> x)
    {
        for (int i = x.Length - 1; i >= 0; i--)
        {
            x[i] = code % 3;
            code /= 3;
        }
    }

    /// <summary>c(· | x) for every position (L × 3, unmasked positions get their one-hot), exact float64.</summary>
    public double[] Conditionals(ReadOnlySpan<int> x)
    {
        long key = 0;
        foreach (int t in x)
        {
            key = (key * 4) + t;
        }

        if (_memo.TryGetValue(key, out var cached))
        {
            return cached;
        }

        int n = x.Length;
        var alpha = new double[n, 3];
        var beta = new double[n, 3];
        for (int s = 0; s < 3; s++)
        {
            alpha[0, s] = Allowed(x[0], s) ? Initial[s] : 0;
            beta[n - 1, s] = 1;
        }

        for (int i = 1; i < n; i++)
        {
            for (int s = 0; s < 3; s++)
            {
                double sum = 0;
                for (int r = 0; r < 3; r++)
                {
                    sum += alpha[i - 1, r] * _transition[r, s];
                }

                alpha[i, s] = Allowed(x[i], s) ? sum : 0;
            }
        }

        for (int i = n - 2; i >= 0; i--)
        {
            for (int s = 0; s < 3; s++)
            {
                double sum = 0;
                for (int r = 0; r < 3; r++)
                {
                    sum += _transition[s, r] * (Allowed(x[i + 1], r) ? beta[i + 1, r] : 0);
                }

                beta[i, s] = sum;
            }
        }

        var result = new double[n * 3];
        for (int i = 0; i < n; i++)
        {
            double z = 0;
            for (int s = 0; s < 3; s++)
            {
                z += alpha[i, s] * beta[i, s];
            }

            for (int s = 0; s < 3; s++)
            {
                result[(i * 3) + s] = alpha[i, s] * beta[i, s] / z;
            }
        }

        _memo[key] = result;
        return result;
    }

    /// <summary>The float32 row the oracle returns for one position (also used by the enumerated LLaDA law).</summary>
    public float[] Row(ReadOnlySpan<int> x, int position)
    {
        var row = new float[RowWidth];
        if (x[position] != MaskId)
        {
            return row;
        }

        double[] c = Conditionals(x);
        for (int y = 0; y < 3; y++)
        {
            row[y] = (float)Math.Log(c[(position * 3) + y]);
        }

        for (int y = 3; y < RowWidth; y++)
        {
            row[y] = 9f;
        }

        return row;
    }

    public LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences)
    {
        int length = tokens.Length / sequences;
        var values = new float[tokens.Length * RowWidth];
        for (int b = 0; b < sequences; b++)
        {
            var x = tokens.Slice(b * length, length);
            for (int i = 0; i < length; i++)
            {
                Row(x, i).CopyTo(values, ((b * length) + i) * RowWidth);
            }
        }

        Calls += sequences;
        return _create(values, tokens.Length, RowWidth);
    }

    private static bool Allowed(int observed, int state) => observed == 3 || observed == state;
}

/// <summary>A cheap denoiser for NFE runs: every position of every sequence gets the same fixed row.</summary>
public sealed class FixedRowDenoiser : ITimeIndependentDenoiser
{
    private readonly Func<float[], int, int, LogitBatch> _create;
    private readonly float[] _row;

    public FixedRowDenoiser(Func<float[], int, int, LogitBatch> create, params float[] row)
    {
        _create = create;
        _row = row;
    }

    public int Vocabulary => _row.Length;

    public int MaskId => _row.Length;

    public long Calls { get; private set; }

    public LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences)
    {
        var values = new float[tokens.Length * _row.Length];
        for (int i = 0; i < tokens.Length; i++)
        {
            _row.CopyTo(values, i * _row.Length);
        }

        Calls += sequences;
        return _create(values, tokens.Length, _row.Length);
    }
}
