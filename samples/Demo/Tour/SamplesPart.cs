using Spectre.Console;

namespace Logits.Samples.Demo.Tour;

/// <summary>Part 5: where to go next.</summary>
internal static class SamplesPart
{
    public static void Run()
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule("[bold]5. The full samples[/]").LeftJustified());
        var table = new Table().Border(TableBorder.Rounded).AddColumn("sample").AddColumn("what it shows").AddColumn("run it");
        Add(table, "LlamaGenerate", "Logits as llama.cpp's sampling layer through LLamaSharp, on your GGUF model or a synthetic one; per-token sampling cost", "LlamaGenerate -- --model PATH.gguf");
        Add(table, "OnnxGenerate", "Logits as the sampler of ONNX Runtime GenAI models (Phi, Llama, Qwen exports) or a synthetic one; per-token cost next to the runtime's own search", "OnnxGenerate -- --onnx-model DIR");
        Add(table, "ClassicLogits", "classic logit models: naive Bayes vs logistic regression, large-step logistic regression, target-based surrogates, a position auction with VCG payments", "ClassicLogits -- --help");
        Add(table, "CopilotArithmetic", "Transformer Copilot: a pre-trained Pilot fine-tuned while a Copilot learns its mistakes, with paired baselines", "CopilotArithmetic -- --quick");
        Add(table, "ReflowToy2D", "rectified flow and reflow on 2-D toys, with plots", "ReflowToy2D -- --quick");
        Add(table, "RaddText", "RADD discrete diffusion on generated text: NFE, caching speed-up, valid words", "RaddText -- --quick");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]Each runs with dotnet run -c Release --project samples/NAME; every sample takes --help. Documentation: README.md and docs/.[/]");
    }

    private static void Add(Table table, string name, string what, string command) =>
        table.AddRow(new Markup($"[bold]{name}[/]"), new Text(what), new Text($"dotnet run -c Release --project samples/{command}"));
}
