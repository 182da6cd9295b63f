using System;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>Names the case a benchmark class measures, as shown in the ratio table (e.g. <c>"top-p 0.9"</c>).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class CaseAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">The case's name in the ratio table.</param>
    public CaseAttribute(string name) => Name = name;

    /// <summary>The case's name in the ratio table.</summary>
    public string Name { get; }

    /// <summary>Rows of the batch the case processes (1 unless the case is a batch case).</summary>
    public int Rows { get; init; } = 1;

    /// <summary>
    /// Whether the class measures Logits on one core: its Logits method counts as <see cref="Peer.LogitsOneCore"/>,
    /// its other methods are ignored, and the quick and dry modes run it in a child process started with
    /// <c>DOTNET_PROCESSOR_COUNT=1</c> (the full run gives it such a BenchmarkDotNet job).
    /// </summary>
    public bool OneCore { get; init; }
}

/// <summary>Marks which <see cref="Infrastructure.Peer"/> a benchmark method measures.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class PeerAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="peer">Who the method measures.</param>
    public PeerAttribute(Peer peer) => Peer = peer;

    /// <summary>Who the method measures.</summary>
    public Peer Peer { get; }
}
