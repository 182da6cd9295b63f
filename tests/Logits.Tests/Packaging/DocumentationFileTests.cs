using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Xunit;

namespace Logits.Tests.Packaging;

/// <summary>
/// The XML documentation file shipped next to <c>Logits.dll</c> (and packed) documents the public surface only: the
/// build filters out the compiler's entries for internal and private members.
/// </summary>
public class DocumentationFileTests
{
    [Fact]
    public void The_documentation_file_names_no_internal_type_or_member_and_keeps_the_public_ones()
    {
        var assembly = typeof(LogitPipeline).Assembly;
        string path = Path.ChangeExtension(assembly.Location, ".xml");
        File.Exists(path).Should().BeTrue($"the documentation file is copied next to the assembly ({path})");
        var names = XDocument.Load(path).Root!.Element("members")!.Elements("member")
            .Select(m => (string)m.Attribute("name")!)
            .ToList();

        var hidden = assembly.GetTypes().Where(t => !IsVisible(t)).Select(DocName).ToList();
        hidden.Should().NotBeEmpty("the library has internal types (kernels, helpers)");
        foreach (string type in hidden)
        {
            names.Should().NotContain(n => n == "T:" + type || n.Substring(2).StartsWith(type + ".", StringComparison.Ordinal), $"{type} is internal");
        }

        // Internal members of public types are gone too; public ones stay.
        names.Should().NotContain(n => n.StartsWith("M:Logits.Processing.SamplingContext.get_EosIds", StringComparison.Ordinal) || n == "P:Logits.Processing.SamplingContext.EosIds");
        names.Should().Contain("T:Logits.Pipelines.LogitPipeline");
        names.Should().Contain("P:Logits.Processing.SamplingContext.EosTokenIds");
        names.Should().Contain(n => n.StartsWith("M:Logits.Pipelines.WarpingBuilderExtensions.Temperature(", StringComparison.Ordinal));
    }

    private static bool IsVisible(Type type)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            if (!(t.IsNested ? t.IsNestedPublic || t.IsNestedFamily || t.IsNestedFamORAssem : t.IsPublic))
            {
                return false;
            }
        }

        return true;
    }

    private static string DocName(Type type) => type.FullName!.Replace('+', '.');
}
