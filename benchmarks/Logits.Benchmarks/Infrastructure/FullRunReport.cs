using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Reports;
using Logits.Benchmarks.Cases;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>After a full BenchmarkDotNet run: the ratio table as Markdown (<c>ratios.md</c>) and a bar chart (<c>ratios.png</c>) beside BenchmarkDotNet's reports.</summary>
public static class FullRunReport
{
    /// <summary>Reads the summaries, prints the table and writes the files. Returns the Markdown path, or null when no case ran.</summary>
    public static string? Write(IReadOnlyList<Summary> summaries, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(output);
        var measurements = new List<Measurement>();
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            var descriptor = report.BenchmarkCase.Descriptor;
            if (descriptor.Type.GetCustomAttribute<CaseAttribute>() is not { } @case
                || descriptor.WorkloadMethod.GetCustomAttribute<PeerAttribute>() is not { } peerAttribute
                || report.ResultStatistics is null
                || CaseCatalog.Classify(@case, peerAttribute.Peer) is not { } peer)
            {
                continue;
            }

            // A one-core class may also run under jobs given on the command line: only its one-core job counts.
            bool oneCoreJob = report.BenchmarkCase.Job.Environment.EnvironmentVariables?.Any(v => v.Key == BatchChainCase.OneCoreVariable && v.Value == "1") == true;
            if (@case.OneCore != oneCoreJob)
            {
                continue;
            }

            int vocab = Convert.ToInt32(report.BenchmarkCase.Parameters["Vocab"], System.Globalization.CultureInfo.InvariantCulture);
            double? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            LogitDistribution? distribution = report.BenchmarkCase.Parameters.Items.Any(p => p.Name == "Distribution")
                ? (LogitDistribution)report.BenchmarkCase.Parameters["Distribution"]
                : null;
            measurements.Add(new Measurement(@case.Name, vocab, peer, report.ResultStatistics.Mean, bytes, distribution));
        }

        if (measurements.Count == 0 || summaries.Count == 0)
        {
            return null;
        }

        var table = RatioTable.Build(measurements);
        output.WriteLine();
        output.WriteLine("Ratio table (Logits / peer; targets from issue 8 at V = 128256):");
        output.Write(table.ToText());

        string artifacts = Path.GetDirectoryName(Path.GetFullPath(summaries[0].ResultsDirectoryPath)) ?? ".";
        string markdown = Path.Combine(artifacts, "ratios.md");
        string chart = Path.Combine(artifacts, "ratios.png");
        var host = summaries[0].HostEnvironmentInfo;
        File.WriteAllText(markdown, string.Join(Environment.NewLine,
        [
            "# Logits benchmark ratios",
            "",
            $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.",
            "",
            "```",
            string.Join(Environment.NewLine, host.ToFormattedString()),
            "```",
            "",
            $"Command line: `{Environment.CommandLine}`",
            "",
            table.ToMarkdown(),
            "Logits / llama.cpp net of its fill, by case, rows and V:",
            "",
            table.LlamaMatrix(),
            "![Logits / peer at V = 128256](ratios.png)",
            "",
        ]));
        RatioChart.Write(table, chart);
        output.WriteLine($"Ratio table: {markdown}");
        output.WriteLine($"Ratio chart: {chart}");
        return markdown;
    }
}
