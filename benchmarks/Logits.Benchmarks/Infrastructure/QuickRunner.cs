using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Logits.Benchmarks.Cases;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>
/// The <c>--quick</c> and <c>--dry</c> modes: a Stopwatch harness around the same benchmark methods BenchmarkDotNet
/// runs, with the same setup and cleanup.
/// </summary>
/// <remarks>
/// <para><c>--quick</c>: runs in a child process under the harness's JIT settings (see <see cref="HarnessProcess"/>);
/// every case at V = 512, 32000 and 128256 (those it has) and every input distribution; per method a 250 ms warm-up, then batches of calls sized to about 10 ms each
/// for <see cref="QuickBudget"/>; the time is the median batch's mean per call, the allocation is
/// managed bytes allocated over all batches divided by the calls (see <see cref="Measure"/>). A few seconds per case and V;
/// indicative only (no outlier analysis, no process isolation).</para>
/// <para><c>--dry</c>: every case at its smallest V and every input distribution, one call per method after one warm-up call, plus each case's
/// <see cref="ICheckedCase.CheckPeersAgree"/>; any mismatch or exception fails the run (exit code 1). Used by CI so the
/// suite never rots.</para>
/// <para>One-core classes (<see cref="CaseAttribute.OneCore"/>) run in a child process of this executable started with
/// <c>DOTNET_PROCESSOR_COUNT=1</c> (see <see cref="RunOneCoreChild"/>).</para>
/// </remarks>
public static class QuickRunner
{
    /// <summary>The argument that starts a one-core child: <c>--one-core-child TYPE VOCAB quick|dry [DISTRIBUTION]</c>.</summary>
    public const string ChildSwitch = "--one-core-child";

    /// <summary>The vocabulary sizes <c>--quick</c> measures (of those a case has; its smallest when it has none of them).</summary>
    private static readonly int[] QuickVocabs = [512, 32000, 128256];

    private static readonly TimeSpan QuickBudget = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan BatchTarget = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan WarmUp = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs every case, prints the ratio table, returns the exit code.</summary>
    /// <param name="dry">Run the dry mode instead of the quick one.</param>
    /// <param name="output">Where the progress and the table go.</param>
    /// <param name="caseName">Only the case of this name (the ratio table's first column), or every case when null.</param>
    public static int Run(bool dry, TextWriter output, string? caseName = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var started = Stopwatch.StartNew();
        var measurements = new List<Measurement>();
        var failures = new List<string>();
        output.WriteLine(dry
            ? "Dry run: one call per benchmark method at the smallest V, and the peer agreement checks."
            : $"Quick run: {QuickBudget.TotalMilliseconds:0} ms per method after a warm-up; indicative numbers only (use the full run for reports).");
        output.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} processors, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        output.WriteLine($"llama.cpp's samplers entered by {Peers.LlamaSamplerEntry.Mode}.");

        foreach (var type in CaseCatalog.CaseTypes())
        {
            var @case = type.GetCustomAttribute<CaseAttribute>()!;
            if (caseName is not null && !string.Equals(@case.Name, caseName, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var sizes = CaseCatalog.VocabSizes(type);
            var quickSizes = sizes.Where(QuickVocabs.Contains).ToArray();
            int[] vocabs = dry ? [sizes.Min()] : quickSizes.Length > 0 ? quickSizes : [sizes.Min()];
            LogitDistribution?[] distributions = type.GetProperty(nameof(SamplingCase.Distribution)) is null
                ? [null]
                : Enum.GetValues<LogitDistribution>().Select(d => (LogitDistribution?)d).ToArray();
            foreach (var distribution in distributions)
            {
                foreach (int vocab in vocabs)
                {
                    var caseStarted = Stopwatch.StartNew();
                    string where = $"{@case.Name}{(distribution is null ? "" : $" [{RatioTable.DistributionName(distribution)}]")}, V = {vocab}";
                    try
                    {
                        if (@case.OneCore)
                        {
                            measurements.Add(RunOneCoreChild(type, @case, vocab, distribution, dry));
                        }
                        else
                        {
                            measurements.AddRange(MeasureCase(type, @case, vocab, distribution, dry, failures, where));
                        }
                    }
#pragma warning disable CA1031 // Reported and counted: one broken case must not hide the others.
                    catch (Exception error)
#pragma warning restore CA1031
                    {
                        var inner = error is TargetInvocationException { InnerException: { } e } ? e : error;
                        failures.Add($"{where}: {inner.GetType().Name}: {inner.Message}");
                    }

                    output.WriteLine($"  {where}{(@case.OneCore ? " (1 core)" : "")}: {caseStarted.Elapsed.TotalSeconds:0.0} s");
                }
            }
        }

        var table = RatioTable.Build(measurements);
        output.WriteLine();
        output.Write(table.ToText());
        if (!dry && table.LlamaMatrix() is { Length: > 0 } matrix)
        {
            output.WriteLine();
            output.WriteLine("Logits / llama.cpp net of its fill:");
            output.Write(matrix);
        }

        if (!dry && caseName is null)
        {
            // The whole quick run is also kept as a Markdown table and its chart (the full run's format, so
            // `--chart` can draw it again), in the git-ignored artifacts folder.
            string artifacts = Path.GetFullPath("BenchmarkDotNet.Artifacts");
            Directory.CreateDirectory(artifacts);
            string markdown = Path.Combine(artifacts, "quick-ratios.md");
            File.WriteAllText(markdown, $"# Logits quick run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{Environment.NewLine}{Environment.NewLine}{table.ToMarkdown()}");
            string chart = Path.Combine(artifacts, "quick-ratios.png");
            RatioChart.Write(table, chart, $"--quick, {DateTime.UtcNow:yyyy-MM-dd}");
            output.WriteLine($"Ratio table: {markdown}");
            output.WriteLine($"Ratio chart: {chart}");
        }

        output.WriteLine($"Total {started.Elapsed.TotalSeconds:0} s.");
        foreach (string failure in failures)
        {
            output.WriteLine($"FAILED: {failure}");
        }

        if (dry)
        {
            output.WriteLine(failures.Count == 0 ? "Dry run passed: every method ran and every peer agreed with Logits." : $"Dry run failed: {failures.Count} problem(s).");
        }

        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>Runs this executable again with the same arguments under the harness's JIT settings (see <see cref="HarnessProcess"/>); returns its exit code.</summary>
    public static int RunInHarnessProcess(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        using var child = HarnessProcess.Start(args, environment: null, captureOutput: false);
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>The body of a one-core child: measures the class's Logits method and prints one <c>RESULT</c> line.</summary>
    public static int RunChild(string typeName, int vocab, bool dry, TextWriter output, LogitDistribution? distribution = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var type = typeof(QuickRunner).Assembly.GetType(typeName) ?? throw new ArgumentException($"no type {typeName}", nameof(typeName));
        var instance = Create(type, vocab, distribution);
        try
        {
            var method = CaseCatalog.PeerMethods(type).First(m => m.Peer == Peer.Logits).Method;
            var (ns, bytes) = Measure(method, instance, dry, allThreads: true);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {ns:R} {bytes:R} {Environment.ProcessorCount}"));
            return 0;
        }
        finally
        {
            Cleanup(instance);
        }
    }

    private static List<Measurement> MeasureCase(Type type, CaseAttribute @case, int vocab, LogitDistribution? distribution, bool dry, List<string> failures, string where)
    {
        var result = new List<Measurement>();
        var instance = Create(type, vocab, distribution);
        try
        {
            foreach (var (method, peer) in CaseCatalog.PeerMethods(type))
            {
                if (CaseCatalog.Classify(@case, peer) is not { } counted)
                {
                    continue;
                }

                try
                {
                    var (ns, bytes) = Measure(method, instance, dry, allThreads: @case.Rows > 1);
                    result.Add(new Measurement(@case.Name, vocab, counted, ns, bytes, distribution));
                }
#pragma warning disable CA1031 // Reported and counted.
                catch (Exception error)
#pragma warning restore CA1031
                {
                    var inner = error is TargetInvocationException { InnerException: { } e } ? e : error;
                    failures.Add($"{where}, {method.Name}: {inner.GetType().Name}: {inner.Message}");
                }
            }

            if (dry && instance is ICheckedCase checkedCase)
            {
                foreach (string message in checkedCase.CheckPeersAgree())
                {
                    failures.Add($"{where}: peers disagree: {message}");
                }
            }
        }
        finally
        {
            Cleanup(instance);
        }

        return result;
    }

    private static Measurement RunOneCoreChild(Type type, CaseAttribute @case, int vocab, LogitDistribution? distribution, bool dry)
    {
        var arguments = new List<string> { ChildSwitch, type.FullName!, vocab.ToString(CultureInfo.InvariantCulture), dry ? "dry" : "quick" };
        if (distribution is not null)
        {
            arguments.Add(distribution.Value.ToString());
        }

        var fields = HarnessProcess.RunForResult(arguments, new Dictionary<string, string> { [BatchChainCase.OneCoreVariable] = "1" });
        if (fields[2] != "1")
        {
            throw new InvalidOperationException($"the one-core child saw {fields[2]} processors, not 1");
        }

        return new Measurement(@case.Name, vocab, Peer.LogitsOneCore, double.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture), distribution);
    }

    /// <summary>Creates a case instance at <paramref name="vocab"/> (and <paramref name="distribution"/> when given) and runs its setup.</summary>
    internal static object Create(Type type, int vocab, LogitDistribution? distribution)
    {
        var instance = Activator.CreateInstance(type) ?? throw new InvalidOperationException($"cannot create {type.Name}");
        type.GetProperty("Vocab")!.SetValue(instance, vocab);
        if (distribution is not null)
        {
            type.GetProperty(nameof(SamplingCase.Distribution))!.SetValue(instance, distribution.Value);
        }

        type.GetMethod("Setup")!.Invoke(instance, null);
        return instance;
    }

    /// <summary>Runs a case instance's cleanup.</summary>
    internal static void Cleanup(object instance) => instance.GetType().GetMethod("Cleanup")!.Invoke(instance, null);

    /// <summary>Times one method: (ns per call, managed bytes per call).</summary>
    /// <remarks>
    /// Single-row cases run on the calling thread, so their allocations are counted on it alone
    /// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>): the runtime's background threads (tiered JIT) allocate too,
    /// and counting them would show a few bytes per call that the benchmark does not allocate. Batch cases run rows on
    /// worker threads, so all threads count.
    /// </remarks>
    internal static (double Nanoseconds, double Bytes) Measure(MethodInfo method, object instance, bool dry, bool allThreads)
    {
        long Allocated() => allThreads ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();

        Action call = MakeCall(method, instance);
        call();
        if (dry)
        {
            long before = Allocated();
            var once = Stopwatch.StartNew();
            call();
            once.Stop();
            return (once.Elapsed.TotalNanoseconds, Allocated() - before);
        }

        // Warm-up, long enough for tiered JIT to promote the hot methods (it waits ~100 ms before compiling tier 1),
        // then the batch size that takes about BatchTarget.
        var warm = Stopwatch.StartNew();
        int calls = 1;
        while (warm.Elapsed < WarmUp || calls < 3)
        {
            call();
            calls++;
        }

        double perCall = warm.Elapsed.TotalNanoseconds / calls;
        int batch = (int)Math.Clamp(BatchTarget.TotalNanoseconds / perCall, 1, 1_000_000);
        var samples = new List<double>();
        var budget = Stopwatch.StartNew();
        while (budget.Elapsed < QuickBudget || samples.Count < 5)
        {
            var timer = Stopwatch.StartNew();
            for (int i = 0; i < batch; i++)
            {
                call();
            }

            timer.Stop();
            samples.Add(timer.Elapsed.TotalNanoseconds / batch);
        }

        // Allocations in a separate loop, so the harness's own (timers, the sample list) are not counted.
        int allocationCalls = Math.Max(batch, 16);
        long allocatedBefore = Allocated();
        for (int i = 0; i < allocationCalls; i++)
        {
            call();
        }

        double bytes = (double)(Allocated() - allocatedBefore) / allocationCalls;
        samples.Sort();
        return (samples[samples.Count / 2], bytes);
    }

    private static Action MakeCall(MethodInfo method, object instance)
    {
        // Delegates bound to the instance: no reflection or boxing inside the timed loop.
        if (method.ReturnType == typeof(void))
        {
            return method.CreateDelegate<Action>(instance);
        }

        if (method.ReturnType == typeof(int))
        {
            var f = method.CreateDelegate<Func<int>>(instance);
            return () => f();
        }

        if (method.ReturnType == typeof(long))
        {
            var f = method.CreateDelegate<Func<long>>(instance);
            return () => f();
        }

        throw new InvalidOperationException($"{method.Name} returns {method.ReturnType.Name}; benchmark methods return void, int or long.");
    }
}
