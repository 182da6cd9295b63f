using TorchSharp;

namespace Logits.Benchmarks.Peers;

/// <summary>The default chain in TorchSharp, the usual way: work on the <c>topk</c> candidates of each row.</summary>
public static class TorchChain
{
    /// <summary>
    /// Samples one token per row of <paramref name="logits"/> (shape [V] or [rows, V]) through top-k → top-p → min-p →
    /// temperature → multinomial. The result has shape [1] or [rows, 1]; temporaries belong to the caller's dispose scope.
    /// </summary>
    public static torch.Tensor Sample(torch.Tensor logits, int k, double topP, double minP, float temperature)
    {
        var (values, ids) = logits.topk(k); // sorted descending
        var probabilities = torch.nn.functional.softmax(values, -1);
        var before = probabilities.cumsum(-1) - probabilities;

        // Scalars held by `using` across the native calls (an implicitly converted one may be freed mid-call).
        using var topPThreshold = (topP - 1e-6).ToScalar();
        using var minPFactor = minP.ToScalar();
        using var removed = float.NegativeInfinity.ToScalar();
        using var temperatureScalar = temperature.ToScalar();

        // Top-p keeps a candidate while the mass before it is below p; min-p keeps p_i ≥ pMin·p_max.
        var remove = before.gt(topPThreshold).logical_or(probabilities.lt(probabilities.narrow(-1, 0, 1).mul(minPFactor)));
        var tempered = values.masked_fill(remove, removed).div(temperatureScalar);
        var choice = torch.multinomial(torch.nn.functional.softmax(tempered, -1), 1);
        return ids.gather(-1, choice);
    }
}
