using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Guidance;
using Logits.Randomness;
using Xunit;

namespace Logits.Tests.Processing.Guidance;

// The pool holds text only, so it has no backend: these tests run once.
public sealed class NegativePromptPoolTests
{
    private static readonly string[] Four = { "a", "b", "c", "d" };

    [Fact]
    public void Drawing_more_than_the_pool_returns_every_example_once()
    {
        var pool = new NegativePromptPool(Four, seed: 1, numNegativePrompts: 10);
        var drawn = pool.DrawExamples();
        drawn.Should().HaveCount(4).And.OnlyHaveUniqueItems().And.BeEquivalentTo(Four);
    }

    [Fact]
    public void Draws_never_repeat_within_one_prompt_and_cover_the_pool_uniformly()
    {
        var examples = Enumerable.Range(0, 20).Select(i => $"e{i}").ToArray();
        var pool = new NegativePromptPool(examples, seed: 7, numNegativePrompts: 5, separator: "|");
        var counts = examples.ToDictionary(e => e, _ => 0);
        const int Draws = 4000;
        for (int d = 0; d < Draws; d++)
        {
            var prompt = pool.DrawNegativePrompt().Split('|');
            prompt.Should().HaveCount(5).And.OnlyHaveUniqueItems();
            foreach (string e in prompt)
            {
                counts[e]++;
            }
        }

        // Each example is drawn with probability 5/20: expected 1000, sd ≈ 27; 150 is > 5 sd.
        counts.Values.Should().OnlyContain(c => Math.Abs(c - 1000) < 150);
    }

    [Fact]
    public void The_same_seed_gives_the_same_prompts()
    {
        var first = new NegativePromptPool(Four, seed: 3, numNegativePrompts: 2);
        var second = new NegativePromptPool(Four, new Xoshiro256StarStar(3), numNegativePrompts: 2);
        for (int i = 0; i < 10; i++)
        {
            first.DrawNegativePrompt().Should().Be(second.DrawNegativePrompt());
        }
    }

    [Fact]
    public void A_completed_sample_is_in_the_pool_before_the_next_draw()
    {
        var pool = new NegativePromptPool(new[] { "real" }, seed: 5, numNegativePrompts: 10);
        pool.DrawNegativePrompt().Should().Be("real");
        pool.Add("generated");
        pool.Count.Should().Be(2);
        pool.DrawExamples().Should().BeEquivalentTo("real", "generated");
        pool.Examples.Should().Equal("real", "generated");
    }

    [Fact]
    public void Rows_of_one_batch_do_not_see_each_other()
    {
        var pool = new NegativePromptPool(new[] { "real" }, seed: 5, numNegativePrompts: 10);
        var prompts = pool.DrawNegativePrompts(3);
        prompts.Should().Equal("real", "real", "real");

        // The rows complete only after all were drawn; the next batch sees them.
        foreach (string completed in new[] { "row0", "row1", "row2" })
        {
            pool.Add(completed);
        }

        pool.DrawNegativePrompts(2).Should().OnlyContain(p => p.Split(' ').Length == 4);
    }

    [Fact]
    public void Clone_is_independent_and_reset_restores_the_construction_state()
    {
        var pool = new NegativePromptPool(Four, seed: 11, numNegativePrompts: 2);
        string firstDraw = pool.DrawNegativePrompt();
        pool.Add("e");
        var clone = pool.Clone();
        string next = pool.DrawNegativePrompt();
        clone.DrawNegativePrompt().Should().Be(next, "the clone continues from the same random position");
        clone.Add("only in clone");
        pool.Count.Should().Be(5);
        clone.Count.Should().Be(6);

        pool.Reset();
        pool.Examples.Should().Equal(Four);
        pool.DrawNegativePrompt().Should().Be(firstDraw);
        clone.Count.Should().Be(6, "resetting the source does not touch the clone");
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        FluentActions.Invoking(() => new NegativePromptPool(Four, 1, numNegativePrompts: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("numNegativePrompts");
        FluentActions.Invoking(() => new NegativePromptPool(Four, 1, separator: null!)).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("separator");
        FluentActions.Invoking(() => new NegativePromptPool(null!, 1)).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("examples");
        FluentActions.Invoking(() => new NegativePromptPool(Four, (IRandomSource)null!)).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("random");
        FluentActions.Invoking(() => new NegativePromptPool(new[] { "a", null! }, 1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("examples");
        var pool = new NegativePromptPool(Array.Empty<string>(), 1);
        FluentActions.Invoking(() => pool.DrawNegativePrompt()).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => pool.Add(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => pool.DrawNegativePrompts(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("rows");
    }
}
