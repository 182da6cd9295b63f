using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace Logits.Samples.ClassicLogits;

/// <summary>One line per series, optionally on log axes, written as a PNG with ScottPlot.</summary>
internal static class Charts
{
    /// <summary>A named series of points.</summary>
    public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

    /// <summary>Writes a line chart; non-positive values are dropped from a log axis.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<Series> series, bool logX = false, bool logY = false, Alignment legend = Alignment.UpperRight)
    {
        var plot = new Plot();
        double yMin = double.PositiveInfinity, yMax = double.NegativeInfinity, xMin = double.PositiveInfinity, xMax = double.NegativeInfinity;
        foreach (var s in series)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < s.X.Count; i++)
            {
                if ((logX && !(s.X[i] > 0)) || (logY && !(s.Y[i] > 0)) || !double.IsFinite(s.X[i]) || !double.IsFinite(s.Y[i]))
                {
                    continue;
                }

                xs.Add(logX ? Math.Log10(s.X[i]) : s.X[i]);
                ys.Add(logY ? Math.Log10(s.Y[i]) : s.Y[i]);
            }

            if (xs.Count == 0)
            {
                continue;
            }

            var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            scatter.LegendText = s.Name;
            scatter.MarkerSize = xs.Count > 60 ? 0 : 5;
            yMin = Math.Min(yMin, ys.Min());
            yMax = Math.Max(yMax, ys.Max());
            xMin = Math.Min(xMin, xs.Min());
            xMax = Math.Max(xMax, xs.Max());
        }

        if (logX && double.IsFinite(xMin))
        {
            plot.Axes.Bottom.TickGenerator = PowerTicks(xMin, xMax);
        }

        if (logY && double.IsFinite(yMin))
        {
            plot.Axes.Left.TickGenerator = PowerTicks(yMin, yMax);
        }

        plot.Title(title);
        plot.XLabel(xLabel + (logX ? " (log scale)" : string.Empty));
        plot.YLabel(yLabel + (logY ? " (log scale)" : string.Empty));
        plot.ShowLegend(legend);
        plot.SavePng(path, 1000, 650);
    }

    private static ScottPlot.TickGenerators.NumericManual PowerTicks(double low, double high)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int exponent = (int)Math.Floor(low); exponent <= (int)Math.Ceiling(high); exponent++)
        {
            double value = Math.Pow(10, exponent);
            ticks.AddMajor(exponent, value is >= 1e-3 and < 1e6 ? value.ToString("0.###", CultureInfo.InvariantCulture) : value.ToString("0E0", CultureInfo.InvariantCulture));
            for (int k = 2; k < 10 && exponent < (int)Math.Ceiling(high); k++)
            {
                ticks.AddMinor(exponent + Math.Log10(k));
            }
        }

        return ticks;
    }
}
