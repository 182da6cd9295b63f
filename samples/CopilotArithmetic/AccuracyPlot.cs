using System;
using System.Collections.Generic;
using System.Linq;
using ScottPlot;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>The per-seed test accuracy of every row, one line with markers per row, written as a PNG with ScottPlot.</summary>
public static class AccuracyPlot
{
    /// <summary>Writes the plot.</summary>
    /// <param name="path">The PNG file.</param>
    /// <param name="seeds">The seeds (x axis).</param>
    /// <param name="rows">The rows (one series each).</param>
    public static void Write(string path, IReadOnlyList<ulong> seeds, IReadOnlyList<ResultRow> rows)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(rows);
        var plot = new Plot();
        double[] xs = seeds.Select(s => (double)s).ToArray();
        var shapes = new[] { MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond };
        for (int r = 0; r < rows.Count; r++)
        {
            var scatter = plot.Add.Scatter(xs, rows[r].Accuracies.Select(a => 100 * a).ToArray());
            scatter.LegendText = FormattableString.Invariant($"{rows[r].Name}: mean {100 * rows[r].Mean:F1} %");
            scatter.MarkerSize = 9;
            scatter.MarkerShape = shapes[r % shapes.Length];
            scatter.LineWidth = 1.5f;
        }

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (ulong seed in seeds)
        {
            ticks.AddMajor(seed, seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Title("Transformer Copilot on 2-digit subtraction after addition pre-training: held-out accuracy per seed");
        plot.XLabel("seed");
        plot.YLabel("test exact match (%)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 1100, 650);
    }
}
