using Logits.Randomness;

namespace Logits.Selection;

/// <summary>Mirostat 2.0: keeps the tokens whose surprise is at most <c>μ</c>, samples, and steers <c>μ</c> towards the target surprise.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/selection.md#mirostat-v2; Basu et al., "Mirostat: A Neural Text Decoding Algorithm that Directly Controls
/// Perplexity", arXiv 2007.14966; llama.cpp <c>mirostat_v2</c>), per row and call:</para>
/// <list type="number">
/// <item>Keep the finite tokens with surprise <c>−log₂ p_i ≤ μ</c> (<c>p</c> the float64 softmax of the row); if none,
/// keep the top tie group.</item>
/// <item>Renormalise over the kept tokens and draw with the multinomial rule of docs/algorithms/selection.md#multinomial (one uniform from the row's
/// xoshiro256** stream, seeded <c>Seed + r</c>).</item>
/// <item>Update <c>μ ← μ − Eta·(−log₂ q'_sel − Tau)</c>, with <c>q'</c> the <b>renormalised</b> probability of the
/// selected token (llama.cpp's behaviour).</item>
/// </list>
/// <para>State: per-row <c>μ</c> (initially <c>2·Tau</c>) and RNG. <c>μ</c> updates at selection, so
/// <see cref="SeededSelector.Accept"/> does nothing; <see cref="SeededSelector.Reset"/> sets <c>μ = 2·Tau</c> and reseeds; <see cref="SeededSelector.Clone"/>
/// copies both. Each call is one <see cref="ILogitKernels.SampleWithinSurprise"/> (on a device, token and probability
/// cross to the host in one read), so both backends give the same token for the same seed.</para>
/// </remarks>
public sealed class MirostatV2Selector : SeededSelector
{
    private double[] _mu = Array.Empty<double>();
    private double[] _uniforms = Array.Empty<double>();
    private double[] _probabilities = Array.Empty<double>();

    /// <summary>Creates the selector.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <param name="tau">The target surprise <c>τ</c> in bits, finite and greater than 0 (llama.cpp's default is 5).</param>
    /// <param name="eta">The learning rate <c>η ≥ 0</c>, finite (default 0.1; 0 keeps <c>μ</c> fixed).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> or <paramref name="eta"/> is out of range.</exception>
    public MirostatV2Selector(ulong seed, double tau = 5, double eta = 0.1)
        : base(seed)
    {
        MirostatMath.Validate(tau, eta);
        Tau = tau;
        Eta = eta;
    }

    /// <summary>The target surprise <c>τ</c>, in bits.</summary>
    public double Tau { get; }

    /// <summary>The learning rate <c>η</c>.</summary>
    public double Eta { get; }

    /// <inheritdoc />
    public override string Name => "mirostat-v2";

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
            // Truncation, draw and the probability the μ update needs in one kernel (one host read on a device).
            logits.Kernels.SampleWithinSurprise(logits, _mu.AsSpan(first, rows), _uniforms.AsSpan(first, rows), destination, _probabilities.AsSpan(first, rows));
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

    internal double MuOf(int row)
    {
        EnsureRows(row + 1);
        return _mu[row];
    }

    /// <summary>
    /// The smallest logit whose surprise <c>−log₂ p</c> is at most <paramref name="mu"/>: keeping <c>z ≥</c> it keeps
    /// exactly those tokens (surprise falls as <c>z</c> rises). When no token qualifies, the row maximum (the top tie group).
    /// </summary>
    internal static double Cutoff(ReadOnlySpan<float> row, double mu) => Logits.Tensors.Cpu.CpuKernels.SurpriseCutoff(row, mu, 0);

    private protected override void EnsureRowState(int rows) => MirostatMath.EnsureMu(ref _mu, 2 * Tau, rows);

    /// <inheritdoc />
    private protected override void ResetRowState() => _mu = Array.Empty<double>();

    /// <inheritdoc />
    private protected override SeededSelector CreateCopy() => new MirostatV2Selector(Seed, Tau, Eta) { _mu = (double[])_mu.Clone() };
}
