// The Logits tour: train a tiny llama-architecture model in TorchSharp, run it in llama.cpp, sample it with Logits and
// with llama.cpp's own sampler, then the flow and diffusion samplers in quick form.
// Run it with: dotnet run --project samples/Demo -c Release [-- PART] [--help]
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using LLama.Native;
using Logits.Samples.Demo.Tour;
using Spectre.Console;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
TourOptions options;
try
{
    options = TourOptions.Parse(args);
}
catch (FormatException error)
{
    Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine();
    Console.Error.WriteLine(TourOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(TourOptions.Usage);
    return 0;
}

// Torch's intra-op threads are set explicitly: by default libtorch starts one per core, which on a small shared
// machine competes with llama.cpp's threads and with itself.
TorchSharp.torch.set_num_threads(options.Threads);

// llama.cpp logs every load to stderr; keep the output to what the tour prints.
NativeLibraryConfig.All.WithLogCallback((level, message) => { });
Directory.CreateDirectory(options.OutputFolder);

var clock = Stopwatch.StartNew();
AnsiConsole.Write(new Rule("[bold]Logits tour[/]").LeftJustified());
AnsiConsole.MarkupLine($"{Environment.ProcessorCount} cores, {options.Threads} torch/llama.cpp thread(s); outputs in [blue]{Markup.Escape(Path.GetFullPath(options.OutputFolder))}[/]");
var checks = new Checks();
TinyModel? model = null;

if (options.Runs("train") || options.Runs("sample"))
{
    model = TrainPart.Run(options, checks);
}

if (options.Runs("sample") && model is not null)
{
    await SamplingPart.RunAsync(options, model, checks);
}

if (options.Runs("flows"))
{
    FlowsPart.Run(options);
}

if (options.Runs("diffusion"))
{
    DiffusionPart.Run(options, checks);
}

if (options.Runs("samples"))
{
    SamplesPart.Run();
}

model?.Dispose();
AnsiConsole.WriteLine();
AnsiConsole.Write(new Rule($"[bold]{(checks.Failed == 0 ? "[green]all checks passed[/]" : $"[red]{checks.Failed} check(s) failed[/]")}[/] in {clock.Elapsed.TotalSeconds:0} s").LeftJustified());
foreach (string failure in checks.Failures)
{
    AnsiConsole.MarkupLine($"[red]FAILED[/] {Markup.Escape(failure)}");
}

return checks.Failed == 0 ? 0 : 1;
