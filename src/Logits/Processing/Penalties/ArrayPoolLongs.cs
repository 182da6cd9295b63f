using System.Buffers;

namespace Logits.Processing.Penalties;

/// <summary>Pooled <see cref="long"/> scratch (sort keys) for the penalty processors.</summary>
internal static class ArrayPoolLongs
{
    public static long[] Rent(int length) => ArrayPool<long>.Shared.Rent(length);

    public static void Return(long[] buffer) => ArrayPool<long>.Shared.Return(buffer);
}
