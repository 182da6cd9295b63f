using System;
using System.Collections.Generic;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Selection;

namespace Logits.Pipelines;

/// <summary>Fluent definition of a <see cref="LogitPipeline"/>: processors in call order, then a selector.</summary>
/// <remarks>
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder()
///     .TopK(40).TopP(0.95).MinP(0.05).Temperature(0.8f)
///     .Multinomial(seed: 42);
/// </code>
/// Families of processors add their own extension methods to this builder.
/// </remarks>
public sealed class LogitPipelineBuilder
{
    private readonly List<ILogitProcessor> _processors = new();
    private bool _checkEveryStage;

    /// <summary>The processors added so far, in order.</summary>
    public IReadOnlyList<ILogitProcessor> Processors => _processors;

    /// <summary>Appends a processor (built-in or custom).</summary>
    /// <param name="processor">The processor.</param>
    /// <returns>This builder.</returns>
    public LogitPipelineBuilder Add(ILogitProcessor processor)
    {
        ArgumentNullException.ThrowIfNull(processor);
        _processors.Add(processor);
        return this;
    }

    /// <summary>Re-checks for NaN/<c>+∞</c> after every processor (Checked mode).</summary>
    /// <param name="enabled">Whether to check every stage.</param>
    /// <returns>This builder.</returns>
    public LogitPipelineBuilder CheckEveryStage(bool enabled = true)
    {
        _checkEveryStage = enabled;
        return this;
    }

    /// <summary>Appends <see cref="TemperatureProcessor"/>.</summary>
    /// <param name="temperature">The temperature (below 1e-5: greedy).</param>
    /// <returns>This builder.</returns>
    public LogitPipelineBuilder Temperature(PerRow<double> temperature) => Add(new TemperatureProcessor(temperature));

    /// <summary>Appends <see cref="TopKProcessor"/>.</summary>
    /// <param name="k">K ≥ 1.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="tieMode">Tie handling at the boundary.</param>
    /// <returns>This builder.</returns>
    public LogitPipelineBuilder TopK(PerRow<int> k, int minTokensToKeep = 1, TopKTieMode tieMode = TopKTieMode.IncludeTies) =>
        Add(new TopKProcessor(k, minTokensToKeep, tieMode));

    /// <summary>Appends <see cref="TopPProcessor"/>.</summary>
    /// <param name="p">P in <c>[0, 1]</c>.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="mode">The boundary rule (default inclusive; HF's float32 complement for parity).</param>
    /// <returns>This builder.</returns>
    public LogitPipelineBuilder TopP(PerRow<double> p, int minTokensToKeep = 1, TopPMode mode = TopPMode.Inclusive) =>
        Add(new TopPProcessor(p, minTokensToKeep, mode));

    /// <summary>Appends <see cref="MinPProcessor"/>.</summary>
    /// <param name="minP">Pmin in <c>[0, 1]</c>.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <returns>This builder.</returns>
    public LogitPipelineBuilder MinP(PerRow<double> minP, int minTokensToKeep = 1) => Add(new MinPProcessor(minP, minTokensToKeep));

    /// <summary>Ends the pipeline with a selector.</summary>
    /// <param name="selector">The selector.</param>
    /// <returns>The pipeline.</returns>
    /// <remarks>
    /// Every pipeline built from this builder gets its own state: each stateful processor
    /// (<see cref="IStatefulSampler"/>: XTC's random stream, DRY and penalty caches, ...) is cloned into the new
    /// pipeline, so two pipelines built from one builder never share state; the instances given to
    /// <see cref="Add"/> serve as templates. Stateless processors are shared. The selector is used as given (the
    /// <see cref="Multinomial"/>, <see cref="Gumbel"/> and <see cref="Greedy"/> shortcuts create a new one each call).
    /// </remarks>
    public LogitPipeline Select(ITokenSelector selector)
    {
        var processors = new ILogitProcessor[_processors.Count];
        for (int i = 0; i < processors.Length; i++)
        {
            processors[i] = _processors[i] is IStatefulSampler stateful ? CloneProcessor(stateful, i) : _processors[i];
        }

        return new(processors, selector, _checkEveryStage);
    }

    private ILogitProcessor CloneProcessor(IStatefulSampler stateful, int index)
    {
        if (stateful.Clone() is not ILogitProcessor copy)
        {
            throw new InvalidOperationException($"The stateful processor at position {index} ('{_processors[index].Name}') returned a clone that is not an ILogitProcessor.");
        }

        return copy;
    }

    /// <summary>Ends the pipeline with greedy selection (argmax-invariant processors are then skipped).</summary>
    /// <returns>The pipeline.</returns>
    public LogitPipeline Greedy() => Select(GreedySelector.Instance);

    /// <summary>Ends the pipeline with seeded multinomial sampling.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <returns>The pipeline.</returns>
    public LogitPipeline Multinomial(ulong seed) => Select(new MultinomialSelector(seed));

    /// <summary>Ends the pipeline with seeded Gumbel-max (exponential race) sampling.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <returns>The pipeline.</returns>
    public LogitPipeline Gumbel(ulong seed) => Select(new GumbelSelector(seed));
}
