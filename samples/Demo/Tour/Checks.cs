using System.Collections.Generic;
using Spectre.Console;

namespace Logits.Samples.Demo.Tour;

/// <summary>The tour's internal checks: each prints its outcome; any failure makes the exit code 1.</summary>
internal sealed class Checks
{
    private readonly List<string> _failures = new();

    public int Failed => _failures.Count;

    public IReadOnlyList<string> Failures => _failures;

    public void Expect(bool passed, string description)
    {
        AnsiConsole.MarkupLine($"  check: {Markup.Escape(description)} [{(passed ? "green]passed" : "red]FAILED")}[/]");
        if (!passed)
        {
            _failures.Add(description);
        }
    }
}
