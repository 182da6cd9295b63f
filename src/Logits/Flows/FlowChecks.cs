namespace Logits.Flows;

/// <summary>Shared argument checks of the flow family.</summary>
internal static class FlowChecks
{
    public static void Time(double t, string paramName)
    {
        if (!(t >= 0 && t <= 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, t, "must be a time in [0, 1]");
        }
    }

    public static void PerRow(int length, int rows, string paramName)
    {
        if (length != rows)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {length} elements but one per row ({rows}) is required.");
        }
    }
}
