using System.Collections.Generic;

namespace Logits.Samples.Auctions;

/// <summary>The VCG outcome of a position auction: the welfare-maximising allocation and each advertiser's payment.</summary>
/// <param name="Solution">The allocation x*.</param>
/// <param name="Payments">t_i = W*_{−i} − Σ_{k≠i} v_k·π_k(x*), 0 for advertisers not shown.</param>
/// <param name="PricesPerClick">t_i/π_i(x*), 0 for advertisers not shown.</param>
/// <param name="WelfareWithout">W*_{−i}, the optimum without advertiser i (equal to W* for advertisers not shown).</param>
public sealed record VcgOutcome(WelfareSolution Solution, IReadOnlyList<double> Payments, IReadOnlyList<double> PricesPerClick, IReadOnlyList<double> WelfareWithout);
