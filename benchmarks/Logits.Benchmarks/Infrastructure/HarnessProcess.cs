using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>
/// Starts this executable again (the quick run's own process, a one-core child, a peer child) with the JIT settings
/// every Stopwatch measurement of the harness runs under.
/// </summary>
/// <remarks>
/// <para>The harness measures with tiered compilation on, as a real application and BenchmarkDotNet's full run do, but
/// with <c>DOTNET_TC_CallCountingDelayMs=0</c>: a method is promoted to optimised (tier 1, with dynamic PGO) after 30
/// calls instead of after a quiet period of 100 ms that every newly compiled method restarts. Without that, a method
/// measured right after others were compiled could still run unoptimised code through most of a short warm-up.</para>
/// <para>Full optimisation from the first call (<c>DOTNET_TieredCompilation=0</c>), which the harness used before, is not
/// the code an application runs: a method is then compiled before the static fields it reads are initialised, so
/// their values cannot be folded in, and it is never recompiled. The peer check showed what that costs:
/// <c>TensorPrimitives.SoftMax</c> at V = 4096 took 7–13 µs alone in such a process and 3 µs in the suite, where
/// other code had initialised the same statics first (the measured time depended on what ran before it).</para>
/// </remarks>
internal static class HarnessProcess
{
    /// <summary>Set in every process this class starts (so a child never starts another one for the same reason).</summary>
    public const string MarkerVariable = "LOGITS_BENCHMARK_HARNESS";

    /// <summary>Whether this process was started by <see cref="Start"/> (its JIT settings are the harness's).</summary>
    public static bool IsHarnessProcess => Environment.GetEnvironmentVariable(MarkerVariable) == "1";

    /// <summary>Starts this executable with <paramref name="arguments"/> and the harness's JIT settings.</summary>
    /// <param name="arguments">The command-line arguments.</param>
    /// <param name="environment">Further environment variables, or null.</param>
    /// <param name="captureOutput">Whether standard output is read by the caller (see <see cref="RunForResult"/>).</param>
    public static Process Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, bool captureOutput)
    {
        string path = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = captureOutput, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            start.ArgumentList.Add(typeof(HarnessProcess).Assembly.Location);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Tiered compilation as an application has it, with promotion after 30 calls (see the remarks); a setting
        // inherited from the caller's environment would make the harness's processes differ from each other.
        start.Environment.Remove("DOTNET_TieredCompilation");
        start.Environment.Remove("DOTNET_TieredPGO");
        start.Environment["DOTNET_TC_CallCountingDelayMs"] = "0";
        start.Environment[MarkerVariable] = "1";
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"The child process ({string.Join(' ', start.ArgumentList)}) did not start.");
    }

    /// <summary>Runs a child to its end; returns the fields of its <c>RESULT</c> line (after the word RESULT).</summary>
    /// <param name="arguments">The command-line arguments.</param>
    /// <param name="environment">Further environment variables, or null.</param>
    /// <exception cref="InvalidOperationException">The child failed or printed no <c>RESULT</c> line.</exception>
    public static string[] RunForResult(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        using var child = Start(arguments, environment, captureOutput: true);
        string text = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"the child exited with {child.ExitCode}: {text.Trim()}");
        }

        return line.Trim().Split(' ')[1..];
    }
}
