
namespace Logits.Flows.Schedules;

/// <summary>What ᾱ the final time t = 1 (index k = −1) of a discrete schedule uses.</summary>
public enum FinalAlpha
{
    /// <summary>ᾱ = 1, so the last DDIM step returns x̂0 (library default).</summary>
    One,

    /// <summary>ᾱ_0, diffusers' <c>set_alpha_to_one = false</c> (Rectified Diffusion's SD pipelines).</summary>
    AlphaBarZero,
}

/// <summary>
/// A discrete DDPM schedule: <c>ᾱ_k = Π_{i≤k}(1 − β_i)</c>, <c>α = √ᾱ_k</c>, <c>σ = √(1 − ᾱ_k)</c>, with the
/// index ↔ time map <c>k = T(1 − t) − 1</c> (docs/algorithms/flows.md#time-convention, docs/algorithms/flows.md#schedules).
/// </summary>
/// <remarks>
/// <para>Times must satisfy <c>|T(1 − t) − round(T(1 − t))| ≤ 1e-9</c>, otherwise <see cref="ArgumentException"/>.
/// There are no derivatives (<see cref="NotSupportedException"/>). Products are accumulated in float64.</para>
/// <para>Presets (T = 1000): <see cref="DdpmLinear"/> (Ho et al. 2020), <see cref="StableDiffusionLinear"/> (Rectified
/// Diffusion's non-phased SD-1.5 training script overrides SD's betas with these), <see cref="ScaledLinear"/> (the SD-1.5
/// default, used by the phased and SDXL pipelines) and <see cref="Cosine"/> (Nichol and Dhariwal 2021; only its last
/// β is clipped, giving 1/α ≈ 20 291 at t = 0).</para>
/// <para>DDIM grid ("trailing", diffusers, η = 0): <c>k_i = round(T − i·T/N) − 1</c>, round half to even, then
/// <c>k_N = −1</c>. The library steps from k_i to k_{i+1}; diffusers steps to <c>k_i − ⌊T/N⌋</c>; they agree when N
/// divides T.</para>
/// </remarks>
public sealed class DiscreteSchedule : DiffusionSchedule
{
    private readonly double[] _alphaBar;

    /// <summary>Creates a schedule from its betas.</summary>
    /// <param name="betas">T ≥ 2 values, each in (0, 1); copied.</param>
    /// <param name="finalAlpha">The ᾱ used at t = 1.</param>
    /// <param name="name">A name for messages.</param>
    /// <exception cref="ArgumentNullException"><paramref name="betas"/> is null.</exception>
    /// <exception cref="ArgumentException">Too few betas, or a beta outside (0, 1).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="finalAlpha"/> is not defined.</exception>
    public DiscreteSchedule(double[] betas, FinalAlpha finalAlpha = FinalAlpha.One, string name = "discrete")
    {
        ArgumentNullException.ThrowIfNull(betas);
        if (betas.Length < 2)
        {
            ThrowHelper.ThrowArgument(nameof(betas), $"must hold at least 2 values; got {betas.Length}.");
        }

        FinalAlpha = Require.Defined(finalAlpha, nameof(finalAlpha));

        _alphaBar = new double[betas.Length];
        double product = 1;
        for (int i = 0; i < betas.Length; i++)
        {
            if (!(betas[i] > 0 && betas[i] < 1))
            {
                ThrowHelper.ThrowArgument(nameof(betas), $"must lie in (0, 1); betas[{i}] = {betas[i]}.");
            }

            product *= 1 - betas[i];
            _alphaBar[i] = product;
        }

        Name = name;
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <summary>T, the number of training steps.</summary>
    public int Length => _alphaBar.Length;

    /// <summary>The ᾱ rule at t = 1.</summary>
    public FinalAlpha FinalAlpha { get; }

    /// <inheritdoc />
    public override bool HasDerivatives => false;

    /// <summary>DDPM's linear betas: <c>linspace(β_start, β_end, T)</c>.</summary>
    /// <param name="betaStart">β_0 (default 1e-4).</param>
    /// <param name="betaEnd">β_{T−1} (default 0.02).</param>
    /// <param name="length">T (default 1000).</param>
    /// <param name="finalAlpha">The final-ᾱ rule.</param>
    /// <returns>The schedule.</returns>
    public static DiscreteSchedule DdpmLinear(double betaStart = 1e-4, double betaEnd = 0.02, int length = 1000, FinalAlpha finalAlpha = FinalAlpha.One)
    {
        var betas = new double[RequireLength(length)];
        for (int i = 0; i < length; i++)
        {
            betas[i] = betaStart + ((betaEnd - betaStart) * i / (length - 1));
        }

        return new DiscreteSchedule(betas, finalAlpha, "ddpm-linear");
    }

    /// <summary>Stable Diffusion's linear betas, <c>DdpmLinear(0.00085, 0.012)</c>.</summary>
    /// <param name="finalAlpha">The final-ᾱ rule.</param>
    /// <returns>The schedule.</returns>
    public static DiscreteSchedule StableDiffusionLinear(FinalAlpha finalAlpha = FinalAlpha.One) => DdpmLinear(0.00085, 0.012, 1000, finalAlpha);

    /// <summary>SD-1.5's "scaled_linear" betas: <c>linspace(√β_start, √β_end, T)²</c>.</summary>
    /// <param name="betaStart">β_0 (default 0.00085).</param>
    /// <param name="betaEnd">β_{T−1} (default 0.012).</param>
    /// <param name="length">T (default 1000).</param>
    /// <param name="finalAlpha">The final-ᾱ rule.</param>
    /// <returns>The schedule.</returns>
    public static DiscreteSchedule ScaledLinear(double betaStart = 0.00085, double betaEnd = 0.012, int length = 1000, FinalAlpha finalAlpha = FinalAlpha.One)
    {
        var betas = new double[RequireLength(length)];
        double a = Math.Sqrt(betaStart);
        double b = Math.Sqrt(betaEnd);
        for (int i = 0; i < length; i++)
        {
            double r = a + ((b - a) * i / (length - 1));
            betas[i] = r * r;
        }

        return new DiscreteSchedule(betas, finalAlpha, "scaled-linear");
    }

    /// <summary>The cosine schedule: <c>β_i = min(1 − f((i+1)/T)/f(i/T), maxBeta)</c>, <c>f(u) = cos²(((u + s)/(1 + s))·π/2)</c>.</summary>
    /// <param name="s">The offset, &gt; 0 (default 0.008).</param>
    /// <param name="maxBeta">The clip, in (0, 1) (default 0.999).</param>
    /// <param name="length">T (default 1000).</param>
    /// <param name="finalAlpha">The final-ᾱ rule.</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static DiscreteSchedule Cosine(double s = 0.008, double maxBeta = 0.999, int length = 1000, FinalAlpha finalAlpha = FinalAlpha.One)
    {
        Require.FinitePositive(s, nameof(s));

        if (!(maxBeta > 0 && maxBeta < 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(maxBeta), maxBeta, "must be in (0, 1)");
        }

        var betas = new double[RequireLength(length)];
        for (int i = 0; i < length; i++)
        {
            betas[i] = Math.Min(1 - (CosineF((double)(i + 1) / length, s) / CosineF((double)i / length, s)), maxBeta);
        }

        return new DiscreteSchedule(betas, finalAlpha, "cosine");
    }

    /// <summary>The continuous cosine ᾱ(u) = f(u)/f(0) at noise time u = 1 − t.</summary>
    /// <param name="u">u in [0, 1].</param>
    /// <param name="s">The offset (default 0.008).</param>
    /// <returns>ᾱ(u).</returns>
    public static double CosineAlphaBar(double u, double s = 0.008) => CosineF(u, s) / CosineF(0, s);

    /// <summary>ᾱ_k.</summary>
    /// <param name="index">k in [0, T).</param>
    /// <returns>ᾱ_k.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public double AlphaBar(int index)
    {
        if ((uint)index >= (uint)_alphaBar.Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index), index, $"must be in [0, {_alphaBar.Length})");
        }

        return _alphaBar[index];
    }

    /// <summary>The index <c>k = T(1 − t) − 1</c> of a grid time (−1 for t = 1).</summary>
    /// <param name="t">A time on the grid.</param>
    /// <returns>k in [−1, T).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="t"/> is not on the grid (tolerance 1e-9 in T(1 − t)).</exception>
    public int IndexOf(double t)
    {
        ValidateTime(t);
        double position = Length * (1 - t);
        double rounded = Math.Round(position);
        if (Math.Abs(position - rounded) > 1e-9)
        {
            ThrowHelper.ThrowArgument(nameof(t), $"= {t} is not on the grid of a {Length}-step discrete schedule (T(1 - t) = {position}).");
        }

        return (int)rounded - 1;
    }

    /// <summary>The library time of index k: <c>t = 1 − (k + 1)/T</c>.</summary>
    /// <param name="index">k in [−1, T).</param>
    /// <returns>t.</returns>
    public double TimeOf(int index) => 1 - ((double)(index + 1) / Length);

    /// <inheritdoc />
    public override double Alpha(double t) => Math.Sqrt(AlphaBarAt(t));

    /// <inheritdoc />
    public override double Sigma(double t) => Math.Sqrt(1 - AlphaBarAt(t));

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is outside [1, T].</exception>
    public override double[] SamplingTimes(int steps)
    {
        if (steps < 1 || steps > Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), steps, $"must be in [1, {Length}]");
        }

        var indices = TrailingIndices(steps);
        var times = new double[steps + 1];
        for (int i = 0; i <= steps; i++)
        {
            times[i] = TimeOf(indices[i]);
        }

        return times;
    }

    /// <summary>The trailing DDIM indices <c>k_i = round(T − i·T/N) − 1</c> (half to even), followed by −1.</summary>
    /// <param name="steps">N in [1, T].</param>
    /// <returns>N + 1 indices.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is outside [1, T].</exception>
    public int[] TrailingIndices(int steps)
    {
        if (steps < 1 || steps > Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), steps, $"must be in [1, {Length}]");
        }

        var indices = new int[steps + 1];
        for (int i = 0; i < steps; i++)
        {
            indices[i] = (int)Math.Round(Length - ((double)i * Length / steps), MidpointRounding.ToEven) - 1;
        }

        indices[steps] = -1;
        return indices;
    }

    private double AlphaBarAt(double t)
    {
        int k = IndexOf(t);
        if (k >= 0)
        {
            return _alphaBar[k];
        }

        return FinalAlpha == FinalAlpha.One ? 1 : _alphaBar[0];
    }

    private static double CosineF(double u, double s)
    {
        double c = Math.Cos((u + s) / (1 + s) * Math.PI / 2);
        return c * c;
    }

    private static int RequireLength(int length)
    {
        if (length < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(length), length, "must be at least 2");
        }

        return length;
    }
}
