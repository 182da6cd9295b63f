using Logits.Processing;

namespace Logits.Diffusion;

/// <summary>Any-order autoregressive (AO-ARM) sampling with a time-independent denoiser: one position per step, in a random or given order.</summary>
/// <remarks>
/// <para>
/// Each step picks one masked position, calls the denoiser on the current sequence and draws that position's token by the
/// exponential race of <see cref="RaddSampler"/>. It uses one step and one network call per masked position and, with an
/// exact conditional, samples the data law exactly (docs/algorithms/discrete-diffusion.md#ordered-sampler).
/// </para>
/// <para>
/// Uniform consumption per sequence and step (random order): one uniform U picks the ⌊U·m⌋-th of the m still-masked
/// positions in ascending order; then the race draws one uniform per finite entry of that position's row.
/// </para>
/// </remarks>
public sealed class OrderedSampler
{
    private readonly ILogitProcessor[] _processors;

    /// <summary>Creates the sampler.</summary>
    /// <param name="processors">Processors applied to the per-position rows after each call; none by default.</param>
    public OrderedSampler(IEnumerable<ILogitProcessor>? processors = null)
    {
        _processors = processors is null ? Array.Empty<ILogitProcessor>() : new List<ILogitProcessor>(processors).ToArray();
    }

    /// <summary>Fills every mask of <paramref name="initial"/> one position at a time, in a uniformly random order, seeded per sequence.</summary>
    /// <param name="denoiser">The time-independent denoiser.</param>
    /// <param name="initial"><c>sequences × L</c> ids; real tokens are kept.</param>
    /// <param name="sequences">The batch size.</param>
    /// <param name="seed">Sequence b draws from <c>Xoshiro256StarStar.ForRow(seed, b)</c>.</param>
    /// <returns>The sequences; <see cref="DiffusionResult.RevealSteps"/> holds the order.</returns>
    /// <exception cref="ArgumentException">Invalid ids or shape.</exception>
    public DiffusionResult Sample(ITimeIndependentDenoiser denoiser, ReadOnlySpan<int> initial, int sequences, ulong seed) =>
        Run(denoiser, RaddSampler.Validated(denoiser, initial, sequences), sequences, UniformStream.FromSeed(seed, sequences), null);

    /// <summary>Fills the masks in the given order (positions not masked in a sequence are skipped for it); seeded per sequence.</summary>
    /// <param name="denoiser">The time-independent denoiser.</param>
    /// <param name="initial"><c>sequences × L</c> ids.</param>
    /// <param name="sequences">The batch size.</param>
    /// <param name="order">A permutation of <c>0…L−1</c> shared by all sequences.</param>
    /// <param name="seed">The batch seed.</param>
    /// <returns>The sequences.</returns>
    /// <exception cref="ArgumentException"><paramref name="order"/> is not a permutation of the positions.</exception>
    public DiffusionResult Sample(ITimeIndependentDenoiser denoiser, ReadOnlySpan<int> initial, int sequences, ReadOnlySpan<int> order, ulong seed)
    {
        int[] tokens = RaddSampler.Validated(denoiser, initial, sequences);
        int length = tokens.Length / sequences;
        var seen = new bool[length];
        if (order.Length != length)
        {
            ThrowHelper.ThrowArgument(nameof(order), $"has {order.Length} positions but the sequences have {length}.");
        }

        foreach (int i in order)
        {
            if (i < 0 || i >= length || seen[i])
            {
                ThrowHelper.ThrowArgument(nameof(order), $"must be a permutation of 0..{length - 1}; {i} is out of range or repeated.");
            }

            seen[i] = true;
        }

        return Run(denoiser, tokens, sequences, UniformStream.FromSeed(seed, sequences), order.ToArray());
    }

    private DiffusionResult Run(ITimeIndependentDenoiser denoiser, int[] tokens, int sequences, UniformStream[] uniforms, int[]? order)
    {
        int length = tokens.Length / sequences;
        int maskId = denoiser.MaskId;
        var cache = new DenoiserCache(denoiser, _processors, sequences, length);
        var revealSteps = new int[tokens.Length];
        Array.Fill(revealSteps, -1);
        var chosen = new int[sequences];
        int steps = order?.Length ?? length;
        for (int k = 0; k < steps; k++)
        {
            for (int b = 0; b < sequences; b++)
            {
                int offset = b * length;
                chosen[b] = -1;
                if (order is not null)
                {
                    if (tokens[offset + order[k]] == maskId)
                    {
                        chosen[b] = order[k];
                    }
                }
                else
                {
                    int masked = 0;
                    for (int i = 0; i < length; i++)
                    {
                        masked += tokens[offset + i] == maskId ? 1 : 0;
                    }

                    if (masked > 0)
                    {
                        int pick = Math.Min((int)(uniforms[b].Next() * masked), masked - 1);
                        for (int i = 0; i < length; i++)
                        {
                            if (tokens[offset + i] == maskId && pick-- == 0)
                            {
                                chosen[b] = i;
                                break;
                            }
                        }
                    }
                }

                if (chosen[b] >= 0 && cache.IsStale(b))
                {
                    cache.Request(b);
                }
            }

            cache.Flush(tokens);
            for (int b = 0; b < sequences; b++)
            {
                int i = chosen[b];
                if (i < 0)
                {
                    continue;
                }

                int y = DiffusionMath.Race(cache.Row(b, i), uniforms[b]);
                if (y < 0)
                {
                    ThrowHelper.ThrowNoViableToken((b * length) + i, "ordered token draw");
                }

                tokens[(b * length) + i] = y;
                revealSteps[(b * length) + i] = k;
                cache.Invalidate(b);
            }
        }

        return new DiffusionResult(tokens, sequences, length, revealSteps, cache.Evaluations);
    }
}
