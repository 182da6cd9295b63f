using Logits.Randomness;

namespace Logits.Selection;

/// <summary>Exponential race (Gumbel-max): <c>argmax (z_i - ln E_i)</c> with <c>E_i = -ln U_i</c>.</summary>
/// <remarks>
/// Rule (docs/algorithms/selection.md#exponential-race-gumbel-max): draw an open uniform <c>U_i</c> for each finite token in ascending id order,
/// then return <c>argmax (z_i - ln E_i)</c> (= <c>argmax p_i / E_i</c>), ties to the lowest id. This samples
/// exactly from <c>softmax(z)</c> without normalising, at the cost of <c>|F|</c> uniforms per row. It is one
/// <see cref="ILogitKernels.SampleGumbel"/> call: a device backend draws the uniforms ahead on the host, uploads them and
/// reads back only the tokens, and both backends give the same token for the same seed. Stateful like
/// <see cref="MultinomialSelector"/>.
/// </remarks>
public sealed class GumbelSelector : SeededSelector
{
    /// <summary>Creates the selector.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    public GumbelSelector(ulong seed)
        : base(seed)
    {
    }

    /// <inheritdoc />
    public override string Name => "gumbel";

    /// <inheritdoc />
    private protected override void SelectCore(LogitBatch logits, Span<int> destination) =>
        logits.Kernels.SampleGumbel(logits, Streams, destination);

    /// <summary>Gumbel-max over one row with <paramref name="random"/> (one open uniform per finite token, ascending ids).</summary>
    internal static int SelectRow(ReadOnlySpan<float> row, IRandomSource random, int rowIndex) =>
        Logits.Tensors.Cpu.CpuKernels.GumbelRow(row, random, rowIndex);

    private protected override SeededSelector CreateCopy() => new GumbelSelector(Seed);
}
