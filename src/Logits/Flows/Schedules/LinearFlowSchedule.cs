namespace Logits.Flows.Schedules;

/// <summary>The Rectified Flow path: <c>α(t) = t</c>, <c>σ(t) = 1 − t</c> (so D = σ′α − σα′ = −1).</summary>
public sealed class LinearFlowSchedule : DiffusionSchedule
{
    /// <summary>The shared instance.</summary>
    public static LinearFlowSchedule Instance { get; } = new();

    /// <inheritdoc />
    public override string Name => "linear-flow";

    /// <inheritdoc />
    public override double Alpha(double t)
    {
        ValidateTime(t);
        return t;
    }

    /// <inheritdoc />
    public override double Sigma(double t)
    {
        ValidateTime(t);
        return 1 - t;
    }

    /// <inheritdoc />
    public override double AlphaDerivative(double t)
    {
        ValidateTime(t);
        return 1;
    }

    /// <inheritdoc />
    public override double SigmaDerivative(double t)
    {
        ValidateTime(t);
        return -1;
    }
}
