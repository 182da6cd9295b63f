using Logits.Processing;
using Logits.Selection;

namespace Logits.Pipelines;

/// <summary>Fluent definition of a <see cref="LogitPipeline"/>: processors in call order, then a selector.</summary>
/// <remarks>
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder()
///     .TopK(40).TopP(0.95).MinP(0.05).Temperature(0.8f)
///     .Multinomial(seed: 42);
/// </code>
/// The builder itself appends any processor (<see cref="Add"/>) and ends with any selector (<see cref="Select"/>);
/// each family of processors adds its methods as extensions, one class per family: <see cref="TruncationBuilderExtensions"/>,
/// <see cref="WarpingBuilderExtensions"/>, <see cref="PenaltiesBuilderExtensions"/>, <see cref="ConstraintsBuilderExtensions"/>,
/// <see cref="GuidanceBuilderExtensions"/>, <see cref="RectificationBuilderExtensions"/> and <see cref="SelectionBuilderExtensions"/>.
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

    /// <summary>Ends the pipeline with a selector.</summary>
    /// <param name="selector">The selector.</param>
    /// <returns>The pipeline.</returns>
    /// <remarks>
    /// Every pipeline built from this builder gets its own state: each stateful processor
    /// (<see cref="IStatefulSampler"/>: XTC's random stream, DRY and penalty caches, ...) is cloned into the new
    /// pipeline, so two pipelines built from one builder never share state; the instances given to
    /// <see cref="Add"/> serve as templates. Stateless processors are shared. The selector is used as given (the
    /// <see cref="SelectionBuilderExtensions.Multinomial"/>, <see cref="SelectionBuilderExtensions.Gumbel"/> and
    /// <see cref="SelectionBuilderExtensions.Greedy"/> shortcuts create a new one each call).
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
}
