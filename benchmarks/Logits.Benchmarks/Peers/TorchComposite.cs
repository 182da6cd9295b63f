using System;
using TorchSharp;

namespace Logits.Benchmarks.Peers;

/// <summary>
/// The default chain written directly with torch ops over the whole vocabulary, as a Hugging Face-style processor list
/// does it: a top-k mask, a sort/cumsum top-p mask scattered back, a min-p mask, the division by the temperature, a
/// softmax and <c>multinomial</c>.
/// </summary>
public static class TorchComposite
{
    /// <summary>
    /// The usual sort-based top-p (inclusive) of a 1-D row: sort descending, softmax, cumulative sum, remove the tokens
    /// whose preceding mass already exceeds <c>p − 1e-6</c>, scatter the mask back, <c>masked_fill</c>. Temporaries belong
    /// to the caller's dispose scope.
    /// </summary>
    public static torch.Tensor TopP(torch.Tensor logits, double p)
    {
        ArgumentNullException.ThrowIfNull(logits);
        var (sorted, order) = logits.sort(descending: true);
        var probabilities = torch.nn.functional.softmax(sorted, 0);
        var before = probabilities.cumsum(0) - probabilities;
        using var threshold = (p - 1e-6).ToScalar();
        using var removed = float.NegativeInfinity.ToScalar();
        var removeSorted = before.gt(threshold);
        var remove = removeSorted.scatter(0, order, removeSorted);
        return logits.masked_fill(remove, removed);
    }

    /// <summary>
    /// Samples one token per row of <paramref name="logits"/> (shape [rows, V]); the result has shape [rows, 1].
    /// Temporaries belong to the caller's dispose scope; <paramref name="logits"/> is not modified.
    /// </summary>
    public static torch.Tensor Sample(torch.Tensor logits, int k, double topP, double minP, float temperature)
    {
        // Scalars held by `using` across the native calls (an implicitly converted one may be freed mid-call).
        using var removed = float.NegativeInfinity.ToScalar();
        using var topPTarget = (topP - 1e-6).ToScalar();
        using var minPFactor = minP.ToScalar();
        using var temperatureScalar = temperature.ToScalar();

        // Top-k: keep the entries at least the k-th largest value.
        var (topValues, _) = logits.topk(k, -1);
        var x = logits.masked_fill(logits.lt(topValues.narrow(-1, k - 1, 1)), removed);

        // Top-p (inclusive): sorted descending, a token stays while the mass before it is below p.
        var (sorted, order) = x.sort(-1, descending: true);
        var probabilities = torch.nn.functional.softmax(sorted, -1);
        var before = probabilities.cumsum(-1).sub(probabilities);
        var removeSorted = before.ge(topPTarget);
        x = x.masked_fill(removeSorted.scatter(-1, order, removeSorted), removed);

        // Min-p: keep p_i ≥ pMin · p_max.
        var p = torch.nn.functional.softmax(x, -1);
        x = x.masked_fill(p.lt(p.amax(new long[] { -1 }, keepdim: true).mul(minPFactor)), removed);

        // Temperature, then the draw.
        return torch.multinomial(torch.nn.functional.softmax(x.div(temperatureScalar), -1), 1);
    }
}
