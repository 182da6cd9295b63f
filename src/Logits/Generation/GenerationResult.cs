
namespace Logits.Generation;

/// <summary>The tokens of a finished generation and why it ended.</summary>
/// <param name="Tokens">The generated tokens (no EOS, no stop sequence).</param>
/// <param name="StopReason">Why generation ended.</param>
public sealed record GenerationResult(IReadOnlyList<int> Tokens, StopReason StopReason);
