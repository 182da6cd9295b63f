using System.Collections.Generic;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>A benchmark class that can check its peers compute the same result as Logits (run by <c>--dry</c>).</summary>
public interface ICheckedCase
{
    /// <summary>
    /// Runs every benchmark method of the class once on the current input and compares each peer's result with
    /// Logits'. Returns one message per mismatch (empty when all agree).
    /// </summary>
    IReadOnlyList<string> CheckPeersAgree();
}
