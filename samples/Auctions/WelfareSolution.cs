using System.Collections.Generic;

namespace Logits.Samples.Auctions;

/// <summary>A welfare-maximising allocation of a position auction under the MNL click model.</summary>
/// <param name="SlotOfAd">For each advertiser, its slot or −1 when not shown.</param>
/// <param name="Welfare">W* = Σ_i v_i·π_i(x*).</param>
/// <param name="ClickProbabilities">π_i(x*) for each advertiser (0 when not shown).</param>
/// <param name="OutsideProbability">π_0(x*), the probability of no click.</param>
/// <param name="Iterations">The number of Dinkelbach updates of λ (0 when the first matching already satisfies the stopping rule).</param>
public sealed record WelfareSolution(IReadOnlyList<int> SlotOfAd, double Welfare, IReadOnlyList<double> ClickProbabilities, double OutsideProbability, int Iterations);
