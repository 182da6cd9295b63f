using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>Finds the case classes and their peer methods by their attributes.</summary>
public static class CaseCatalog
{
    /// <summary>Every concrete class with a <see cref="CaseAttribute"/>, in a stable order.</summary>
    public static IReadOnlyList<Type> CaseTypes() =>
        typeof(CaseCatalog).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttribute<CaseAttribute>() is not null)
            .OrderBy(t => Order(t.GetCustomAttribute<CaseAttribute>()!.Name))
            .ThenBy(t => t.GetCustomAttribute<CaseAttribute>()!.OneCore)
            .ToList();

    /// <summary>The benchmark methods of <paramref name="type"/> with a <see cref="PeerAttribute"/>.</summary>
    public static IReadOnlyList<(MethodInfo Method, Peer Peer)> PeerMethods(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var result = new List<(MethodInfo, Peer)>();
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            if (method.GetCustomAttribute<BenchmarkAttribute>() is not null && method.GetCustomAttribute<PeerAttribute>() is { } peer)
            {
                result.Add((method, peer.Peer));
            }
        }

        return result.OrderBy(m => m.Item2).ToList();
    }

    /// <summary>The vocabulary sizes of <paramref name="type"/>'s <c>[Params]</c> on <c>Vocab</c>.</summary>
    public static IReadOnlyList<int> VocabSizes(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var property = type.GetProperty("Vocab") ?? throw new InvalidOperationException($"{type.Name} has no Vocab property.");
        var values = property.GetCustomAttribute<ParamsAttribute>()?.Values ?? throw new InvalidOperationException($"{type.Name}.Vocab has no [Params].");
        return values.Select(v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>
    /// The peer a measured method counts as: in a one-core class only the Logits method counts (as
    /// <see cref="Peer.LogitsOneCore"/>); null for methods that do not count.
    /// </summary>
    public static Peer? Classify(CaseAttribute @case, Peer peer)
    {
        ArgumentNullException.ThrowIfNull(@case);
        if (!@case.OneCore)
        {
            return peer;
        }

        return peer == Peer.Logits ? Peer.LogitsOneCore : null;
    }

    /// <summary>The position of a case in the tables: issue 8's order.</summary>
    public static int Order(string caseName)
    {
        string[] order = ["softmax", "log-softmax", "top-k 40", "top-p 0.9", "min-p 0.05", "plain sampling", "default chain", "penalties (4096 history)", "batch 64 default chain", "default chain in generation"];
        int index = Array.IndexOf(order, caseName);
        return index < 0 ? order.Length : index;
    }
}
