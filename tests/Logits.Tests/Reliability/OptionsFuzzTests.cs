using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Xunit;

namespace Logits.Tests.Reliability;

/// <summary>The fast version of the options fuzzing (see <see cref="OptionsFuzz"/>): no crash, no silent drop.</summary>
public sealed class OptionsFuzzTests
{
    private static void NoDefect(SortedDictionary<string, int> outcomes, int cases)
    {
        outcomes.Values.Sum().Should().Be(cases);
        outcomes.Where(o => o.Key.StartsWith("DEFECT", StringComparison.Ordinal)).Select(o => $"{o.Key}: {o.Value}").Should().BeEmpty();
        outcomes.Keys.Should().Contain(k => !k.Contains("naming", StringComparison.Ordinal) && !k.Contains("Exception", StringComparison.Ordinal), "valid cases occur too");
    }

    [Fact]
    public void Presets_and_option_classes_never_crash_or_drop_a_step() => NoDefect(OptionsFuzz.Presets(4000, 20261207), 4000);

    [Fact]
    public void Chat_options_mapping_never_crashes_or_drops_a_step() => NoDefect(OptionsFuzz.ChatOptionsMapping(4000, 20261208), 4000);

    [Fact]
    public void Generator_never_crashes_or_yields_foreign_ids() => NoDefect(OptionsFuzz.Generator(600, 20261209), 600);
}
