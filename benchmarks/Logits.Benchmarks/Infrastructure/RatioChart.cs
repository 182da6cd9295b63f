using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>A horizontal bar chart of the ratios Logits / peer at V = 128256, on a log scale, with the targets drawn, made with ScottPlot.</summary>
/// <remarks>
/// ScottPlot has no logarithmic bar axis, so the bars are <c>log10(ratio)</c> with ticks labelled as ratios. Bars left
/// of 1× mean Logits is faster; green bars meet their issue 8 target, red ones miss it, grey ones have none. Each
/// target is a black bar across its row at the largest ratio that meets it.
/// </remarks>
public static class RatioChart
{
    private static readonly Color Met = Colors.SeaGreen;
    private static readonly Color Missed = Colors.Crimson;
    private static readonly Color NoTarget = Colors.Gray;

    /// <summary>Writes the chart to <paramref name="path"/> (PNG).</summary>
    /// <param name="table">The ratio table; its rows at <see cref="RatioTable.TargetVocab"/> with a ratio are drawn.</param>
    /// <param name="path">The PNG file.</param>
    /// <param name="subtitle">A second title line (e.g. the run's date and machine), or null.</param>
    public static void Write(RatioTable table, string path, string? subtitle = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.Rows.Where(r => r.Vocab == RatioTable.TargetVocab && r.Ratio is > 0).ToList();
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        var targets = new List<(double X, double Position)>();
        double lowest = 0, highest = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            double position = rows.Count - i;
            double value = Math.Log10(row.Ratio!.Value);
            var color = row.Met switch { true => Met, false => Missed, null => NoTarget };
            bars.Add(new Bar { Position = position, Value = value, FillColor = color, Orientation = Orientation.Horizontal, Size = 0.7 });
            ticks.Add(new Tick(position, string.Create(CultureInfo.InvariantCulture, $"{row.Case}{(row.Distribution.Length == 0 ? "" : $" [{row.Distribution}]")} / {row.Peer}: {row.Ratio:0.###}×"), isMajor: true));
            lowest = Math.Min(lowest, value);
            highest = Math.Max(highest, value);
            if (TargetValue(row.Target) is double target)
            {
                double x = Math.Log10(target);
                targets.Add((x, position));
                lowest = Math.Min(lowest, x);
                highest = Math.Max(highest, x);
            }
        }

        plot.Add.Bars(bars);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        var valueTicks = new ScottPlot.TickGenerators.NumericManual();
        int lowExponent = (int)Math.Floor(lowest), highExponent = (int)Math.Ceiling(highest);
        for (int exponent = lowExponent; exponent <= highExponent; exponent++)
        {
            valueTicks.AddMajor(exponent, string.Create(CultureInfo.InvariantCulture, $"{Math.Pow(10, exponent):0.####}×"));
            for (int k = 2; k < 10 && exponent < highExponent; k++)
            {
                valueTicks.AddMinor(exponent + Math.Log10(k));
            }
        }

        plot.Axes.Bottom.TickGenerator = valueTicks;
        plot.Axes.SetLimits(lowExponent, highExponent, 0.3, rows.Count + 0.7);
        var one = plot.Add.VerticalLine(0, 1, Colors.Black);
        one.LinePattern = LinePattern.Dashed;
        // The targets last, so they lie on top of the bars and of the 1× line.
        foreach (var (x, position) in targets)
        {
            var mark = plot.Add.Line(x, position - 0.5, x, position + 0.5);
            mark.LineColor = Colors.Black;
            mark.LineWidth = 5;
        }

        plot.Title($"Logits time / peer time at V = {RatioTable.TargetVocab} (log scale; left of 1× = Logits faster)" + (subtitle is null ? "" : "\n" + subtitle));
        plot.XLabel("Logits time / peer time");
        plot.YLabel("case / peer");
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "target met", FillColor = Met });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "target missed", FillColor = Missed });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "no target", FillColor = NoTarget });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "target (largest ratio that meets it)", LineColor = Colors.Black, LineWidth = 5 });
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, 1400, 160 + (30 * Math.Max(rows.Count, 1)));
    }

    /// <summary>The bound of a target such as <c>≤ 0.5</c>; null for none or the allocation target.</summary>
    internal static double? TargetValue(string target) =>
        target.StartsWith('≤') && double.TryParse(target.AsSpan(1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? value
            : null;
}
