using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>A horizontal bar chart of the ratios Logits / peer at V = 128256, on a log scale, drawn with ScottPlot.</summary>
/// <remarks>
/// ScottPlot has no logarithmic bar axis, so the bars are <c>log10(ratio)</c> with ticks labelled as ratios. Bars left
/// of 1× mean Logits is faster; green bars meet their issue 8 target, red ones miss it, grey ones have none.
/// </remarks>
public static class RatioChart
{
    /// <summary>Writes the chart to <paramref name="path"/> (PNG).</summary>
    public static void Write(RatioTable table, string path)
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.Rows.Where(r => r.Vocab == RatioTable.TargetVocab && r.Ratio is > 0).ToList();
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            double position = rows.Count - i;
            var color = row.Met switch { true => Colors.SeaGreen, false => Colors.Crimson, null => Colors.Gray };
            bars.Add(new Bar { Position = position, Value = Math.Log10(row.Ratio!.Value), FillColor = color, Orientation = Orientation.Horizontal });
            ticks.Add(new Tick(position, $"{row.Case} / {row.Peer}", isMajor: true));
        }

        plot.Add.Bars(bars);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        var valueTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int exponent = -4; exponent <= 2; exponent++)
        {
            valueTicks.AddMajor(exponent, string.Create(CultureInfo.InvariantCulture, $"{Math.Pow(10, exponent):0.####}×"));
        }

        plot.Axes.Bottom.TickGenerator = valueTicks;
        plot.Add.VerticalLine(0, 1, Colors.Black);
        plot.Title($"Logits time / peer time at V = {RatioTable.TargetVocab} (log scale; < 1× = Logits faster)");
        plot.XLabel("Logits / peer");
        plot.SavePng(path, 1400, 120 + (32 * Math.Max(rows.Count, 1)));
    }
}
