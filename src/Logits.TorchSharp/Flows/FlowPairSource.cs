
namespace Logits.TorchSharp.Flows;

/// <summary>
/// Where a velocity trainer draws its (x0, x1) pairs from: two independent pools (1-rectified flow: independent
/// coupling) or a stored coupling (reflow: pair i stays pair i). Pools are row-major float32, <c>[n, d]</c>.
/// </summary>
public sealed class FlowPairSource
{
    private FlowPairSource(float[] sources, float[] targets, int dimension, bool coupled)
    {
        Sources = sources;
        Targets = targets;
        Dimension = dimension;
        IsCoupled = coupled;
    }

    /// <summary>The source pool (noise / π0 samples), row-major.</summary>
    public float[] Sources { get; }

    /// <summary>The target pool (data / π1 samples or reflow endpoints), row-major.</summary>
    public float[] Targets { get; }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>Whether row i of <see cref="Sources"/> is paired with row i of <see cref="Targets"/>.</summary>
    public bool IsCoupled { get; }

    /// <summary>The number of source rows.</summary>
    public int SourceCount => Sources.Length / Dimension;

    /// <summary>The number of target rows.</summary>
    public int TargetCount => Targets.Length / Dimension;

    /// <summary>The independent coupling: every batch draws source and target rows independently and uniformly.</summary>
    /// <param name="sources">π0 samples, a positive multiple of d long (not copied).</param>
    /// <param name="targets">π1 samples, a positive multiple of d long (not copied).</param>
    /// <param name="dimension">d ≥ 1.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentNullException">A pool is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A pool is empty or not a multiple of d long.</exception>
    public static FlowPairSource Independent(float[] sources, float[] targets, int dimension)
    {
        Validate(sources, targets, dimension);
        return new FlowPairSource(sources, targets, dimension, coupled: false);
    }

    /// <summary>A stored coupling (reflow pairs): every batch draws row indices and takes both points of each pair.</summary>
    /// <param name="starts">z0 rows (not copied).</param>
    /// <param name="ends">z1 rows, same length (not copied).</param>
    /// <param name="dimension">d ≥ 1.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentNullException">A pool is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The pools differ in length, are empty or are not a multiple of d long.</exception>
    public static FlowPairSource Coupled(float[] starts, float[] ends, int dimension)
    {
        Validate(starts, ends, dimension);
        if (starts.Length != ends.Length)
        {
            ThrowHelper.ThrowArgument(nameof(ends), $"has {ends.Length} values but the starts have {starts.Length}.");
        }

        return new FlowPairSource(starts, ends, dimension, coupled: true);
    }

    private static void Validate(float[] sources, float[] targets, int dimension)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        Require.AtLeast(dimension, 1, nameof(dimension));

        if (sources.Length == 0 || sources.Length % dimension != 0)
        {
            ThrowHelper.ThrowArgument(nameof(sources), $"must hold a positive multiple of {dimension} values; got {sources.Length}.");
        }

        if (targets.Length == 0 || targets.Length % dimension != 0)
        {
            ThrowHelper.ThrowArgument(nameof(targets), $"must hold a positive multiple of {dimension} values; got {targets.Length}.");
        }
    }
}
