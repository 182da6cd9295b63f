using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Logits.TorchSharp.Tests.Analysis;

/// <summary>
/// No code of the repository hands libtorch a <c>TorchSharp.Scalar</c> that the GC may free during the native call
/// (see <see cref="ScalarLifetimeAnalyzer"/>): the sources of every project that uses TorchSharp are compiled with
/// Roslyn and checked with the semantic model.
/// </summary>
public sealed class ScalarLifetimeTests
{
    /// <summary>The projects that use TorchSharp: folder and assembly name.</summary>
    private static readonly (string Folder, string Assembly)[] TorchProjects =
    {
        ("src/Logits.TorchSharp", "Logits.TorchSharp"),
        ("tests/Logits.TorchSharp.Tests", "Logits.TorchSharp.Tests"),
        ("tests/Logits.Reliability", "Logits.Reliability"),
        ("samples/CopilotArithmetic", "CopilotArithmetic"),
        ("samples/Demo", "Demo"),
        ("samples/RaddText", "RaddText"),
        ("samples/ReflowToy2D", "ReflowToy2D"),
        ("benchmarks/Logits.Benchmarks", "Logits.Benchmarks"),
    };

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Logits.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Logits.sln not found above " + AppContext.BaseDirectory);
    }

    internal static Dictionary<string, string> UnsafeTorchSharpMembers()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Analysis", "TorchSharpScalarTemporaries.tsv");
        return File.ReadLines(path)
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split('\t', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : "");
    }

    private static readonly CSharpParseOptions ParseOptions = new(
        LanguageVersion.Latest,
        preprocessorSymbols: new[] { "NET", "NETCOREAPP", "NET8_0_OR_GREATER", "NET9_0_OR_GREATER", "NET10_0_OR_GREATER", "NET10_0", "RELEASE" });

    /// <summary>The test host's trusted assemblies: the framework and every package and project this project uses.</summary>
    private static List<MetadataReference> References(string excludedAssembly)
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return paths
            .Where(p => !string.Equals(Path.GetFileNameWithoutExtension(p), excludedAssembly, StringComparison.OrdinalIgnoreCase))
            .GroupBy(Path.GetFileName)
            .Select(g => (MetadataReference)MetadataReference.CreateFromFile(g.First()))
            .ToList();
    }

    internal static CSharpCompilation Compile(string assemblyName, IEnumerable<SyntaxTree> trees, OutputKind kind = OutputKind.DynamicallyLinkedLibrary) =>
        CSharpCompilation.Create(
            assemblyName,
            trees,
            References(assemblyName),
            new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable));

    private static CSharpCompilation CompileProject(string root, string folder, string assembly)
    {
        var directory = Path.Combine(root, folder);
        var files = Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), ParseOptions, f)).ToList();
        trees.Should().NotBeEmpty($"{folder} holds the project's sources");
        var executable = File.ReadAllText(Path.Combine(directory, assembly + ".csproj")).Contains("<OutputType>Exe</OutputType>", StringComparison.Ordinal);
        return Compile(assembly, trees, executable ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary);
    }

    [Fact]
    public void The_list_of_unsafe_TorchSharp_members_matches_the_referenced_TorchSharp()
    {
        typeof(global::TorchSharp.torch).Assembly.GetName().Version!.ToString(3).Should().Be(
            "0.107.0",
            "TorchSharpScalarTemporaries.tsv was made from TorchSharp 0.107.0's sources: redo that audit for a new version");
        UnsafeTorchSharpMembers().Should().ContainKeys(
            "M:TorchSharp.torch.Tensor.op_Division(TorchSharp.torch.Tensor,System.Double)",
            "M:TorchSharp.torch.Tensor.op_Addition(TorchSharp.torch.Tensor,TorchSharp.torch.Tensor)",
            "M:TorchSharp.torch.optim.Optimizer.step(System.Func{TorchSharp.torch.Tensor})");
    }

    [Fact]
    public void Every_TorchSharp_project_holds_each_Scalar_across_its_native_call()
    {
        var root = RepositoryRoot();
        var unsafeMembers = UnsafeTorchSharpMembers();
        var hazards = new List<ScalarHazard>();
        var unboundErrors = new List<string>();
        foreach (var (folder, assembly) in TorchProjects)
        {
            var compilation = CompileProject(root, folder, assembly);
            var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (folder.StartsWith("benchmarks", StringComparison.Ordinal))
            {
                // BenchmarkDotNet, LLamaSharp and ScottPlot are not referenced here, so code that uses them does not
                // bind; none of them is TorchSharp. Every statement that touches TorchSharp must bind without an error.
                errors = errors.Where(e => !IsBenchmarkPackageName(e) && TouchesTorchSharp(e)).ToList();
            }

            unboundErrors.AddRange(errors.Take(100).Select(e => $"{folder}: {e}"));
            hazards.AddRange(ScalarLifetimeAnalyzer.Analyze(compilation, unsafeMembers, root));
        }

        string.Join(Environment.NewLine, unboundErrors).Should().BeEmpty("the analysis needs every TorchSharp call bound");
        string.Join(Environment.NewLine, hazards).Should().BeEmpty(
            "TorchSharp leaves a Scalar made implicitly to the GC, which can free it while libtorch reads it " +
            "(dotnet/TorchSharp#1434): hold it with `using var s = value.ToScalar();` or use a tensor operand");
    }

    /// <summary>A using directive or an attribute naming a type of a package this project does not reference.</summary>
    private static bool IsBenchmarkPackageName(Diagnostic error)
    {
        if (error.Id is not ("CS0246" or "CS0234") || error.Location.SourceTree is not { } tree)
        {
            return false;
        }

        var node = tree.GetRoot().FindNode(error.Location.SourceSpan);
        return node.AncestorsAndSelf().Any(n => n is Microsoft.CodeAnalysis.CSharp.Syntax.UsingDirectiveSyntax
                                                  or Microsoft.CodeAnalysis.CSharp.Syntax.AttributeSyntax);
    }

    private static bool TouchesTorchSharp(Diagnostic error)
    {
        if (error.Location.SourceTree is not { } tree)
        {
            return true;
        }

        var node = tree.GetRoot().FindNode(error.Location.SourceSpan);
        var statement = node.AncestorsAndSelf().FirstOrDefault(n => n is Microsoft.CodeAnalysis.CSharp.Syntax.StatementSyntax
                                                                      or Microsoft.CodeAnalysis.CSharp.Syntax.MemberDeclarationSyntax) ?? node;
        var text = statement.ToString();
        return new[] { "torch", "Tensor", "Scalar", "TorchSharp" }.Any(word => text.Contains(word, StringComparison.Ordinal));
    }

    /// <summary>Each rule of the analyzer fires on its pattern and stays quiet on the held forms.</summary>
    [Theory]
    [InlineData("t / Math.Sqrt(2.0)", true)]
    [InlineData("t * 0.5", true)]
    [InlineData("0.5f * t", true)]
    [InlineData("t + 1e-6", true)]
    [InlineData("t - 1", true)]
    [InlineData("t + t", true)]
    [InlineData("t.add(t)", true)]
    [InlineData("t.masked_fill(t.gt(t), double.NegativeInfinity)", true)]
    [InlineData("torch.full(new long[] { 2 }, 1.0)", true)]
    [InlineData("t.clamp(min: 0.0)", true)]
    [InlineData("t.pow(2.0)", true)]
    [InlineData("t.square()", true)]
    [InlineData("t.mul(0.5.ToScalar())", true)]
    [InlineData("t.mul((Scalar)0.5)", true)]
    [InlineData("t.mul(t)", false)]
    [InlineData("t.sub(t)", false)]
    [InlineData("t.div(t)", false)]
    [InlineData("t.add(t, one)", false)]
    [InlineData("t.mul(half)", false)]
    [InlineData("t.mul(Held)", false)]
    [InlineData("t.item<float>()", false)]
    public void Analyzer_flags_Scalars_that_nothing_holds(string expression, bool hazardous)
    {
        var source = $$"""
            using System;
            using TorchSharp;
            using static TorchSharp.torch;

            static class Probe
            {
                private static readonly Scalar Held = 2.0.ToScalar();

                static object Run(Tensor t)
                {
                    using var one = 1.ToScalar();
                    using var half = 0.5.ToScalar();
                    return {{expression}};
                }
            }
            """;
        var compilation = Compile("Probe", new[] { CSharpSyntaxTree.ParseText(source, ParseOptions, "/probe/Probe.cs") });
        compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty();

        var hazards = ScalarLifetimeAnalyzer.Analyze(compilation, UnsafeTorchSharpMembers(), "/probe");

        if (hazardous)
        {
            hazards.Should().NotBeEmpty($"`{expression}` hands libtorch a Scalar that nothing holds");
        }
        else
        {
            hazards.Select(h => h.ToString()).Should().BeEmpty($"`{expression}` holds its Scalar");
        }
    }

    [Fact]
    public void Analyzer_flags_a_Scalar_local_without_using_and_an_optimizer_step_through_its_base_type()
    {
        const string source = """
            using System;
            using TorchSharp;
            using static TorchSharp.torch;

            static class Probe
            {
                static Tensor Local(Tensor t)
                {
                    var s = 0.5.ToScalar();
                    return t.mul(s);
                }

                static void Step(optim.Optimizer optimizer) => optimizer.step();

                static void AdamStep(Tensor w)
                {
                    var adam = optim.Adam(new[] { new TorchSharp.Modules.Parameter(w) });
                    adam.step();
                }
            }
            """;
        var compilation = Compile("Probe", new[] { CSharpSyntaxTree.ParseText(source, ParseOptions, "/probe/Probe.cs") });
        compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty();

        var hazards = ScalarLifetimeAnalyzer.Analyze(compilation, UnsafeTorchSharpMembers(), "/probe");

        hazards.Select(h => h.Line).Should().BeEquivalentTo(new[] { 9, 13, 18 });
    }
}
