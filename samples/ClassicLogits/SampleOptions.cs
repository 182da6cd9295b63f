namespace Logits.Samples.ClassicLogits;

/// <summary>The options shared by every command.</summary>
/// <param name="Quick">A reduced run (seconds) with the same code paths.</param>
/// <param name="Seed">The random seed.</param>
/// <param name="OutputDirectory">Where plots and CSV files go.</param>
public sealed record SampleOptions(bool Quick, int Seed, string OutputDirectory);
