namespace Logits.Flows;

/// <summary>What a sampler run did.</summary>
/// <param name="FunctionEvaluations">The number of velocity (or noise-predictor) evaluations actually used (NFE).</param>
/// <param name="Steps">The number of steps taken.</param>
public readonly record struct FlowSampleResult(int FunctionEvaluations, int Steps);
