using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Logits.Choice;
using Logits.Samples.Auctions;

namespace Logits.Samples.ClassicLogits;

/// <summary>
/// A position auction under MNL clicks (Balseiro et al., arXiv 2506.03309): the welfare-maximising allocation by
/// Dinkelbach + assignment, VCG payments, and the Myerson identity drawn as the click curve of one advertiser.
/// </summary>
internal static class AuctionExample
{
    public static bool Run(SampleOptions options, TextWriter output)
    {
        // Example A: three advertisers, two slots, at most two ads; w_ij = e^{ρ_ij} (MNL weights), outside weight 1.
        double[,] weights = { { 1.0, 0.5 }, { 0.8, 0.9 }, { 0.3, 0.6 } };
        double[] values = { 3, 2, 4 };
        const int maxAds = 2;
        output.WriteLine();
        output.WriteLine("## Position auction under MNL clicks (3 advertisers, 2 slots, K = 2, outside weight 1)");
        output.WriteLine("| advertiser | value per click | w(slot 0) | w(slot 1) | lone-ad click probability in slot 0 |");
        output.WriteLine("|---|---|---|---|---|");
        for (int i = 0; i < values.Length; i++)
        {
            var lone = new double[1];
            Mnl.ChoiceProbabilities(new[] { Math.Log(weights[i, 0]) }, lone);
            output.WriteLine($"| {i} | {values[i]} | {weights[i, 0]} | {weights[i, 1]} | {lone[0]:F4} |");
        }

        var vcg = MnlAuction.VcgPayments(weights, values, maxAds);
        var solution = vcg.Solution;
        output.WriteLine();
        output.WriteLine($"Welfare-maximising allocation: {string.Join(", ", solution.SlotOfAd.Select((s, i) => s >= 0 ? $"ad {i} → slot {s}" : null).Where(s => s is not null))}; W* = {solution.Welfare:F6}; no-click probability {solution.OutsideProbability:F6}; Dinkelbach updates: {solution.Iterations}");
        output.WriteLine("| advertiser | slot | click probability | W* without it | others' welfare with it | VCG payment | price per click | value |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < values.Length; i++)
        {
            if (solution.SlotOfAd[i] < 0)
            {
                output.WriteLine($"| {i} | — | 0 | — | — | 0 | — | {values[i]} |");
                continue;
            }

            double others = solution.Welfare - (values[i] * solution.ClickProbabilities[i]);
            output.WriteLine($"| {i} | {solution.SlotOfAd[i]} | {solution.ClickProbabilities[i]:F6} | {vcg.WelfareWithout[i]:F6} | {others:F6} | {vcg.Payments[i]:F6} | {vcg.PricesPerClick[i]:F6} | {values[i]} |");
        }

        // Myerson: t_i = v_i·π_i(v) − ∫_0^{v_i} π_i(z, v_−i) dz, with π_i(z) a step function of the bid z.
        bool ok = true;
        int points = options.Quick ? 4000 : 20_000;
        var series = new System.Collections.Generic.List<Charts.Series>();
        foreach (int ad in Enumerable.Range(0, values.Length).Where(i => solution.SlotOfAd[i] >= 0))
        {
            double h = values[ad] / points;
            double integral = 0;
            var bids = (double[])values.Clone();
            var zs = new double[200];
            var clicks = new double[200];
            for (int k = 0; k < points; k++)
            {
                bids[ad] = (k + 0.5) * h;
                integral += MnlAuction.SolveWelfare(weights, bids, maxAds).ClickProbabilities[ad] * h;
            }

            for (int k = 0; k < zs.Length; k++)
            {
                bids[ad] = zs[k] = 1.5 * values[ad] * k / (zs.Length - 1);
                clicks[k] = MnlAuction.SolveWelfare(weights, bids, maxAds).ClickProbabilities[ad];
            }

            double myerson = (values[ad] * solution.ClickProbabilities[ad]) - integral;
            bool agrees = Math.Abs(myerson - vcg.Payments[ad]) <= 1e-4;
            ok &= agrees;
            output.WriteLine($"check: ad {ad}: Myerson payment {myerson:F6} (midpoint rule, {points} points) = VCG {vcg.Payments[ad]:F6}: {(agrees ? "met" : "NOT met")}");
            series.Add(new Charts.Series($"ad {ad}: click probability vs its bid (others fixed)", zs, clicks));
        }

        bool rational = Enumerable.Range(0, values.Length).All(i => vcg.Payments[i] >= -1e-12 && vcg.Payments[i] <= (values[i] * solution.ClickProbabilities[i]) + 1e-12);
        ok &= rational;
        output.WriteLine($"check: individual rationality 0 ≤ t_i ≤ v_i·π_i: {(rational ? "met" : "NOT met")}");
        Charts.Lines(Path.Combine(options.OutputDirectory, "auction-click-curves.png"), "MNL position auction: click probability against one advertiser's bid (Myerson)", "bid per click z", "click probability π_i(z, v_−i)", series, legend: ScottPlot.Alignment.LowerRight);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(The VCG payment is the area between v_i·π_i and the curve up to v_i; see auction-click-curves.png.)"));
        return ok;
    }
}
