
namespace Logits.Processing;

/// <summary>Pooled per-row scratch for processors: no allocation per call in steady state.</summary>
internal static class LogitProcessorBuffers
{
    public static float[] RentFloats(int length) => ArrayPool<float>.Shared.Rent(length);

    public static int[] RentInts(int length) => ArrayPool<int>.Shared.Rent(length);

    public static double[] RentDoubles(int length) => ArrayPool<double>.Shared.Rent(length);

    public static long[] RentLongs(int length) => ArrayPool<long>.Shared.Rent(length);

    public static void Return(float[] buffer) => ArrayPool<float>.Shared.Return(buffer);

    public static void Return(int[] buffer) => ArrayPool<int>.Shared.Return(buffer);

    public static void Return(double[] buffer) => ArrayPool<double>.Shared.Return(buffer);

    public static void Return(long[] buffer) => ArrayPool<long>.Shared.Return(buffer);
}
