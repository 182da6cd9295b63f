namespace Logits.Benchmarks.Infrastructure;

/// <summary>One measured benchmark method: mean time per call and managed bytes allocated per call.</summary>
/// <param name="Case">The case name (<see cref="CaseAttribute.Name"/>).</param>
/// <param name="Vocab">The vocabulary size.</param>
/// <param name="Peer">Who the method measures.</param>
/// <param name="Nanoseconds">Time per call.</param>
/// <param name="BytesPerCall">Managed bytes allocated per call, when measured.</param>
/// <param name="Distribution">The kind of logit rows (null for cases without one, e.g. generation with a model).</param>
public sealed record Measurement(string Case, int Vocab, Peer Peer, double Nanoseconds, double? BytesPerCall, LogitDistribution? Distribution = null);
