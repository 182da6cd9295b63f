using Logits.Randomness;

namespace Logits.Selection;

/// <summary>Mirostat 1.0: estimates the Zipf exponent of the row, picks a top-k that targets surprise <c>μ</c>, samples, and updates <c>μ</c>.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/selection.md#mirostat-v1; Basu et al., arXiv 2007.14966, Algorithm 1; llama.cpp <c>mirostat</c>), per row and call:</para>
/// <list type="number">
/// <item>Take the finite probabilities in rank order, <c>q_1 ≥ q_2 ≥ …</c> (float64 softmax of the row).</item>
/// <item>Over <c>i = 1 … min(M, |F|) − 1</c>, using only pairs with both probabilities &gt; 0:
/// <c>t_i = ln((i+1)/i)</c>, <c>b_i = ln(q_i/q_{i+1})</c>, <c>ŝ = Σ t_i b_i / Σ t_i²</c>.</item>
/// <item><c>ε̂ = ŝ − 1</c>, <c>k = (ε̂·2^μ / (1 − NVocab^(−ε̂)))^(1/ŝ)</c>. If <c>|ε̂| &lt; 1e-6</c> the base is its limit
/// <c>2^μ / ln NVocab</c> (library decision: still raised to <c>1/ŝ</c>, which is continuous with the general form). If no
/// pair was usable, <c>ŝ ≤ 0</c>, or <c>k</c> is not finite, <c>k = |F|</c>.</item>
/// <item>Top-k with <c>clamp(⌊k⌋, 1, |F|)</c>, ties at the boundary kept; renormalise; draw with the multinomial rule of docs/algorithms/selection.md#multinomial
/// (one uniform from the row's xoshiro256** stream, seeded <c>Seed + r</c>).</item>
/// <item><c>μ ← μ − Eta·(−log₂ q'_sel − Tau)</c>, <c>q'</c> the renormalised probability (llama.cpp's behaviour).</item>
/// </list>
/// <para>State: per-row <c>μ</c> (initially <c>2·Tau</c>) and RNG; <c>μ</c> updates at selection, so <see cref="SeededSelector.Accept"/>
/// does nothing; <see cref="SeededSelector.Reset"/> sets <c>μ = 2·Tau</c> and reseeds; <see cref="SeededSelector.Clone"/> copies both. Each call sorts the
/// row's finite values on the host (as llama.cpp does), so v1 costs <c>O(V log V)</c> per row; v2 needs no sort.</para>
/// </remarks>
public sealed class MirostatV1Selector : SeededSelector
{
    private double[] _mu = Array.Empty<double>();
    private double[] _uniforms = Array.Empty<double>();
    private double[] _probabilities = Array.Empty<double>();

    /// <summary>Creates the selector.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <param name="tau">The target surprise <c>τ</c> in bits, finite and greater than 0 (default 5).</param>
    /// <param name="eta">The learning rate <c>η ≥ 0</c>, finite (default 0.1).</param>
    /// <param name="m">How many top probabilities the Zipf estimate uses, at least 2 (default 100).</param>
    /// <param name="nVocab">The vocabulary size in the <c>k</c> formula, at least 2; <see langword="null"/> (default) uses the batch's vocabulary.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public MirostatV1Selector(ulong seed, double tau = 5, double eta = 0.1, int m = 100, int? nVocab = null)
        : base(seed)
    {
        MirostatMath.Validate(tau, eta);
        if (m < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(m), m, "must be at least 2");
        }

        if (nVocab is < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(nVocab), nVocab, "must be at least 2 (or null for the batch's vocabulary)");
        }

        Tau = tau;
        Eta = eta;
        M = m;
        NVocab = nVocab;
    }

    /// <summary>The target surprise <c>τ</c>, in bits.</summary>
    public double Tau { get; }

    /// <summary>The learning rate <c>η</c>.</summary>
    public double Eta { get; }

    /// <summary>How many top probabilities the Zipf estimate uses.</summary>
    public int M { get; }

    /// <summary>The vocabulary size in the <c>k</c> formula, or <see langword="null"/> for the batch's vocabulary.</summary>
    public int? NVocab { get; }

    /// <inheritdoc />
    public override string Name => "mirostat-v1";

    /// <inheritdoc />
    private protected override void SelectCore(LogitBatch logits, Span<int> destination)
    {
        int rows = logits.Rows;
        int first = logits.RowOffset;
        EnsureBuffers(first + rows);
        for (int r = 0; r < rows; r++)
        {
            _uniforms[first + r] = Stream(first + r).NextDouble();
        }

        try
        {
            // Estimate, truncation, draw and the probability the μ update needs in one kernel (one host read on a device).
            logits.Kernels.SampleEstimatedTopK(logits, _mu.AsSpan(first, rows), M, NVocab ?? logits.Vocab, _uniforms.AsSpan(first, rows), destination, _probabilities.AsSpan(first, rows));
        }
        catch (NoViableTokenException error) when (error.Stage != Name)
        {
            throw new NoViableTokenException(error.Row, Name);
        }

        for (int r = first; r < first + rows; r++)
        {
            _mu[r] = MirostatMath.NextMu(_mu[r], Tau, Eta, _probabilities[r]);
        }
    }

    /// <inheritdoc />
    private protected override void EnsureBuffers(int rows)
    {
        if (_uniforms.Length < rows)
        {
            _uniforms = new double[rows];
            _probabilities = new double[rows];
        }
    }

    /// <summary>The current <c>μ</c> of <paramref name="row"/> (<c>2·Tau</c> before its first selection).</summary>
    internal double MuOf(int row)
    {
        EnsureRows(row + 1);
        return _mu[row];
    }

    /// <summary>The top-k cut of one row: the <c>⌊k⌋</c>-th largest value (clamped to <c>[1, |F|]</c>), and the raw <c>k</c>.</summary>
    /// <param name="row">A checked row with at least one finite value.</param>
    /// <param name="mu">The row's current <c>μ</c>.</param>
    /// <param name="m">The number of top probabilities for the Zipf estimate.</param>
    /// <param name="nVocab">The vocabulary size of the formula.</param>
    /// <param name="scratch">At least <c>row.Length</c> floats.</param>
    /// <param name="k">The unclamped <c>k</c> (or <c>|F|</c> when the estimate fails).</param>
    internal static float Cutoff(ReadOnlySpan<float> row, double mu, int m, int nVocab, float[] scratch, out double k)
    {
        int finite = 0;
        float max = float.NegativeInfinity;
        foreach (float z in row)
        {
            if (!float.IsNegativeInfinity(z))
            {
                scratch[finite++] = z;
                max = Math.Max(max, z);
            }
        }

        double sum = 0;
        for (int i = 0; i < finite; i++)
        {
            sum += Math.Exp((double)scratch[i] - max);
        }

        double lse = max + Math.Log(sum);

        // Ascending: q_i (1-based, rank order) is exp(scratch[finite - i] - lse).
        Array.Sort(scratch, 0, finite);
        int pairs = Math.Min(m, finite) - 1;
        double numerator = 0;
        double denominator = 0;
        bool usable = false;
        for (int i = 1; i <= pairs; i++)
        {
            double qi = Math.Exp(scratch[finite - i] - lse);
            double qNext = Math.Exp(scratch[finite - i - 1] - lse);
            if (!(qi > 0 && qNext > 0))
            {
                continue;
            }

            double t = Math.Log((i + 1.0) / i);
            double b = Math.Log(qi / qNext);
            numerator += t * b;
            denominator += t * t;
            usable = true;
        }

        k = usable ? EstimateK(numerator / denominator, mu, nVocab) : double.NaN;
        if (!double.IsFinite(k))
        {
            k = finite;
        }

        int kept = (int)Math.Clamp(Math.Floor(k), 1, finite);
        return scratch[finite - kept];
    }

    /// <summary><c>k = (ε̂·2^μ / (1 − N^(−ε̂)))^(1/ŝ)</c>, or NaN when <c>ŝ ≤ 0</c>.</summary>
    internal static double EstimateK(double sHat, double mu, double nVocab)
    {
        if (!(sHat > 0))
        {
            return double.NaN;
        }

        double epsilonHat = sHat - 1;
        double twoToMu = Math.Pow(2, mu);

        // ε̂ → 0: ε̂ / (1 − N^(−ε̂)) → 1 / ln N.
        double baseK = Math.Abs(epsilonHat) < 1e-6
            ? twoToMu / Math.Log(nVocab)
            : epsilonHat * twoToMu / (1 - Math.Pow(nVocab, -epsilonHat));
        return Math.Pow(baseK, 1 / sHat);
    }

    /// <inheritdoc />
    private protected override void EnsureRowState(int rows) => MirostatMath.EnsureMu(ref _mu, 2 * Tau, rows);

    /// <inheritdoc />
    private protected override void ResetRowState() => _mu = Array.Empty<double>();

    /// <inheritdoc />
    private protected override SeededSelector CreateCopy() => new MirostatV1Selector(Seed, Tau, Eta, M, NVocab) { _mu = (double[])_mu.Clone() };
}
