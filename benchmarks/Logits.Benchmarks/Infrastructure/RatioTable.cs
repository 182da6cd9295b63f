using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>
/// The ratio table: for each case and V, Logits' time, each peer's time, the ratio Logits / peer, and issue 8's target
/// where one applies (at V = 128256), with met / not met.
/// </summary>
/// <remarks>
/// llama.cpp appears twice: with its candidate fill ("fill + apply") and net of it (the fill measured alone and
/// subtracted). Logits' time always includes the copy that restores its in-place input; the copy alone is the
/// "row copy" line. The allocation target (zero bytes per call on the CPU path) is one line per case at V = 128256.
/// </remarks>
public sealed class RatioTable
{
    /// <summary>The vocabulary size the targets apply to.</summary>
    public const int TargetVocab = 128256;

    private static readonly (string Case, string Peer, double MaxRatio, int Vocab)[] Targets =
    [
        ("softmax", "TensorPrimitives", 1.0, TargetVocab),
        ("softmax", "row copy", 5.0, TargetVocab),
        ("top-p 0.9", "llama.cpp net of fill", 0.05, TargetVocab),
        ("top-p 0.9", "TorchSharp", 0.05, TargetVocab),
        ("plain sampling", "llama.cpp net of fill", 0.1, TargetVocab),
        ("default chain", "llama.cpp net of fill", 0.5, TargetVocab),
        ("batch 64 default chain", "Logits, 1 core", 1.0 / 1.7, TargetVocab),
        ("default chain in generation", "LLamaSharp DefaultSamplingPipeline", 0.5, TargetVocab),
        ("default chain in generation", "LLamaSharp DefaultSamplingPipeline", 1.0, 512),
        ("torch default chain", "TorchSharp", 0.5, TargetVocab),
    ];

    /// <summary>
    /// Cases on the torch backend: every torch op hands back managed tensor handles, so these cases have no
    /// zero-allocation target (the CPU cases do).
    /// </summary>
    private static readonly string[] TorchBackendCases = ["torch default chain"];

    private static readonly string[] Header = ["case", "rows", "V", "Logits", "peer", "peer time", "Logits/peer", "target", "met", "note"];

    private readonly List<Row> _rows = [];

    private RatioTable()
    {
    }

    /// <summary>The rows, in print order.</summary>
    public IReadOnlyList<Row> Rows => _rows;

    /// <summary>How many targets were checked and how many of them were met.</summary>
    public (int Checked, int Met) TargetCounts => (_rows.Count(r => r.Met is not null), _rows.Count(r => r.Met == true));

    /// <summary>Builds the table from measurements.</summary>
    public static RatioTable Build(IEnumerable<Measurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var table = new RatioTable();
        foreach (var group in measurements.GroupBy(m => (m.Case, m.Distribution, m.Vocab)).OrderBy(g => CaseCatalog.Order(g.Key.Case)).ThenBy(g => g.Key.Distribution).ThenBy(g => g.Key.Vocab))
        {
            var byPeer = group.GroupBy(m => m.Peer).ToDictionary(g => g.Key, g => g.Last());
            if (!byPeer.TryGetValue(Peer.Logits, out var logits))
            {
                continue;
            }

            void Add(string peer, double? peerNs, string? note = null)
            {
                double? ratio = peerNs is > 0 ? logits.Nanoseconds / peerNs : null;
                var target = Targets.FirstOrDefault(t => t.Case == group.Key.Case && t.Peer == peer && t.Vocab == group.Key.Vocab);
                double? max = target.Case is null ? null : target.MaxRatio;
                bool? met = max is null || ratio is null ? null : ratio <= max;
                table._rows.Add(new Row(group.Key.Case, group.Key.Vocab, logits.Nanoseconds, peer, peerNs, ratio, max is null ? "" : $"≤ {max:0.###}", met, note, DistributionName(group.Key.Distribution)));
            }

            if (byPeer.TryGetValue(Peer.LlamaCpp, out var llama))
            {
                Add("llama.cpp (fill + apply)", llama.Nanoseconds);
                if (byPeer.TryGetValue(Peer.LlamaCppFill, out var fill))
                {
                    Add("llama.cpp net of fill", llama.Nanoseconds - fill.Nanoseconds, $"fill {FormatTime(fill.Nanoseconds)}");
                }
            }

            foreach (var (peer, name) in new[] { (Peer.LlamaSharpPipeline, "LLamaSharp DefaultSamplingPipeline"), (Peer.TorchSharp, "TorchSharp"), (Peer.TensorPrimitives, "TensorPrimitives"), (Peer.Scalar, "scalar C#"), (Peer.RowCopy, "row copy"), (Peer.LogitsOneCore, "Logits, 1 core") })
            {
                if (byPeer.TryGetValue(peer, out var m))
                {
                    Add(name, m.Nanoseconds);
                }
            }

            if (group.Key.Vocab == TargetVocab && logits.BytesPerCall is double bytes && !TorchBackendCases.Contains(group.Key.Case))
            {
                table._rows.Add(new Row(group.Key.Case, group.Key.Vocab, logits.Nanoseconds, "(Logits bytes allocated per call)", null, null, "= 0 B", bytes < 1, $"{bytes:0} B", DistributionName(group.Key.Distribution)));
            }
        }

        return table;
    }

    /// <summary>
    /// Reads the rows of a table written by <see cref="ToMarkdown"/> (a run's <c>ratios.md</c>, or its copy in
    /// docs/benchmarks.md), so the chart can be drawn again from recorded numbers without a new run.
    /// </summary>
    /// <param name="lines">The Markdown text's lines; lines that are not rows of a ratio table are skipped.</param>
    /// <returns>The table.</returns>
    /// <exception cref="FormatException">A row has a malformed time or ratio.</exception>
    public static RatioTable ParseMarkdown(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var table = new RatioTable();
        foreach (string line in lines)
        {
            string trimmed = line.Trim();
            if (!trimmed.StartsWith('|') || !trimmed.EndsWith('|'))
            {
                continue;
            }

            string[] cells = trimmed[1..^1].Split('|').Select(c => c.Trim()).ToArray();
            string rowsName = "";
            if (cells.Length == Header.Length)
            {
                // Since the distribution axis: "rows" is the second column.
                rowsName = cells[1];
                cells = cells.Where((_, i) => i != 1).ToArray();
            }

            if (cells.Length != Header.Length - 1 || !int.TryParse(cells[1], NumberStyles.None, CultureInfo.InvariantCulture, out int vocab))
            {
                continue; // the header, the separator or another table
            }

            bool? met = cells[7] switch { "met" => true, "NOT MET" => false, _ => null };
            table._rows.Add(new Row(cells[0], vocab, ParseTime(cells[2]) ?? throw new FormatException($"No Logits time in row '{line}'."), cells[3], ParseTime(cells[4]), ParseNumber(cells[5], line), cells[6], met, cells[8].Length == 0 ? null : cells[8], rowsName));
        }

        return table;
    }

    private static double? ParseNumber(string cell, string line) =>
        cell == "—" ? null
        : double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value
        : throw new FormatException($"Malformed ratio '{cell}' in row '{line}'.");

    /// <summary>The inverse of <see cref="FormatTime"/>, in ns.</summary>
    private static double? ParseTime(string cell)
    {
        if (cell == "—")
        {
            return null;
        }

        string[] parts = cell.Split(' ');
        double scale = parts.Length == 2 ? parts[1] switch { "ns" => 1, "µs" => 1e3, "ms" => 1e6, "s" => 1e9, _ => double.NaN } : double.NaN;
        return parts.Length == 2 && !double.IsNaN(scale) && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value * scale
            : throw new FormatException($"Malformed time '{cell}'.");
    }

    /// <summary>Formats a time in ns, µs or ms.</summary>
    public static string FormatTime(double? ns) => ns switch
    {
        null => "—",
        < 1_000 => string.Create(CultureInfo.InvariantCulture, $"{ns:0.0} ns"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1_000:0.0} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ns / 1_000_000:0.00} ms"),
    };

    /// <summary>The table as aligned plain text.</summary>
    public string ToText()
    {
        var cells = Cells();
        var widths = new int[cells[0].Length];
        foreach (var row in cells)
        {
            for (int c = 0; c < row.Length; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        var text = new StringBuilder();
        for (int r = 0; r < cells.Count; r++)
        {
            text.AppendLine(string.Join("  ", cells[r].Select((cell, c) => c is 2 or 3 or 5 or 6 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
            if (r == 0)
            {
                text.AppendLine(new string('-', widths.Sum() + (2 * (widths.Length - 1))));
            }
        }

        text.AppendLine(Tally());
        return text.ToString();
    }

    /// <summary>The table as Markdown.</summary>
    public string ToMarkdown()
    {
        var cells = Cells();
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", cells[0]) + " |");
        text.AppendLine("| --- | --- | ---: | ---: | --- | ---: | ---: | --- | --- | --- |");
        foreach (var row in cells.Skip(1))
        {
            text.AppendLine("| " + string.Join(" | ", row) + " |");
        }

        text.AppendLine();
        text.AppendLine(Tally());
        return text.ToString();
    }

    private string Tally()
    {
        var (checkedCount, met) = TargetCounts;
        return $"Targets (V = {TargetVocab}, and V = 512 for the generation case): {met} of {checkedCount} met.";
    }

    private List<string[]> Cells()
    {
        var cells = new List<string[]> { Header };
        foreach (var row in _rows)
        {
            cells.Add(
            [
                row.Case,
                row.Distribution,
                row.Vocab.ToString(CultureInfo.InvariantCulture),
                FormatTime(row.LogitsNs),
                row.Peer,
                FormatTime(row.PeerNs),
                row.Ratio is double ratio ? string.Create(CultureInfo.InvariantCulture, $"{ratio:0.000}") : "—",
                row.Target,
                row.Met switch { true => "met", false => "NOT MET", null => "" },
                row.Note ?? "",
            ]);
        }

        return cells;
    }

    /// <summary>One line of the table.</summary>
    /// <param name="Case">The case.</param>
    /// <param name="Vocab">The vocabulary size.</param>
    /// <param name="LogitsNs">Logits' time per call.</param>
    /// <param name="Peer">The peer's name.</param>
    /// <param name="PeerNs">The peer's time per call.</param>
    /// <param name="Ratio">Logits / peer.</param>
    /// <param name="Target">The target, e.g. <c>≤ 0.5</c>, or empty.</param>
    /// <param name="Met">Whether the target is met; null when there is none.</param>
    /// <param name="Note">A remark (the fill time, bytes allocated).</param>
    /// <param name="Distribution">The kind of logit rows (<see cref="DistributionName"/>), empty when the case has none.</param>
    public sealed record Row(string Case, int Vocab, double LogitsNs, string Peer, double? PeerNs, double? Ratio, string Target, bool? Met, string? Note, string Distribution = "");

    /// <summary>The short name of a distribution in the tables: <c>peaked</c>, <c>gaussian σ1</c>, <c>gaussian σ3</c>, <c>zipf</c>.</summary>
    public static string DistributionName(LogitDistribution? distribution) => distribution switch
    {
        null => "",
        LogitDistribution.Peaked => "peaked",
        LogitDistribution.Gaussian1 => "gaussian σ1",
        LogitDistribution.Gaussian3 => "gaussian σ3",
        LogitDistribution.Zipf => "zipf",
        _ => distribution.ToString()!,
    };

    /// <summary>
    /// The ratio against llama.cpp net of its fill as a matrix: one line per case and distribution, one column per V
    /// (the form in which the distribution × vocabulary results are read at a glance). Empty when no llama.cpp peer ran.
    /// </summary>
    public string LlamaMatrix()
    {
        var rows = _rows.Where(r => r.Peer == "llama.cpp net of fill" && r.Ratio is not null).ToList();
        if (rows.Count == 0)
        {
            return "";
        }

        var vocabs = rows.Select(r => r.Vocab).Distinct().Order().ToList();
        var text = new StringBuilder();
        text.AppendLine("| case | rows | " + string.Join(" | ", vocabs.Select(v => $"V = {v}")) + " |");
        text.AppendLine("| --- | --- |" + string.Concat(vocabs.Select(_ => " ---: |")));
        foreach (var line in rows.GroupBy(r => (r.Case, r.Distribution)))
        {
            var byVocab = line.ToDictionary(r => r.Vocab, r => r.Ratio!.Value);
            text.AppendLine($"| {line.Key.Case} | {line.Key.Distribution} | " + string.Join(" | ", vocabs.Select(v => byVocab.TryGetValue(v, out double ratio) ? string.Create(CultureInfo.InvariantCulture, $"{ratio:0.00}") : "—")) + " |");
        }

        return text.ToString();
    }
}
