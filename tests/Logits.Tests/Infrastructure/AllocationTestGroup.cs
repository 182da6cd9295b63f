using Xunit;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// Allocation tests measure the bytes their own thread allocates. They run alone (no other test class in
/// parallel): other threads renting from the shared ArrayPool at the same moment can leave a bucket empty
/// and make a steady-state rent allocate, which is contention between tests, not an allocation per call.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationTestGroup
{
    public const string Name = "allocation";
}
