using Logits.TorchSharp.Optimization;

namespace Logits.TorchSharp.Rectification;

/// <summary>Settings of a <see cref="CopilotJointTrainer{TPilot}"/>: learning rates and schedules, the Mistake Log, the loss reduction.</summary>
/// <remarks>Every property is validated when it is set (<see cref="ArgumentOutOfRangeException"/> naming the property).</remarks>
public sealed class CopilotTrainerOptions
{
    /// <summary>η_P, the Pilot's AdamW learning rate, finite and positive (default 1e-3).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite and positive.</exception>
    public double PilotLearningRate { get; init => field = Require.FinitePositive(value, nameof(PilotLearningRate)); } = 1e-3;

    /// <summary>η_C, the Copilot's AdamW learning rate, finite and positive (default 1e-3).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite and positive.</exception>
    public double CopilotLearningRate { get; init => field = Require.FinitePositive(value, nameof(CopilotLearningRate)); } = 1e-3;

    /// <summary>The AdamW weight decay of both optimizers, finite and ≥ 0 (default 0.01, AdamW's usual default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double WeightDecay { get; init => field = Require.FiniteNonNegative(value, nameof(WeightDecay)); } = 0.01;

    /// <summary>The Mistake Log capacity in sequences, at least 1 (default <see cref="MistakeLog.Unbounded"/>: the paper's
    /// log, which keeps every sequence of the run; bounded only by memory, its size is reported in every
    /// <see cref="CopilotTrainingProgress"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MistakeLogCapacity { get; init => field = Require.AtLeast(value, 1, nameof(MistakeLogCapacity)); } = MistakeLog.Unbounded;

    /// <summary>The Mistake Log storage type: Float32 (default), BFloat16 or Float16.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Another type.</exception>
    public ScalarType MistakeLogStorageType
    {
        get;
        init
        {
            MistakeLog.ValidateStorageType(value, nameof(MistakeLogStorageType));
            field = value;
        }
    } = ScalarType.Float32;

    /// <summary>Where the Mistake Log stores its entries (default <see langword="null"/>: the CPU).</summary>
    public Device? MistakeLogDevice { get; init; }

    /// <summary>The Copilot batch size, at least 1 (default <see langword="null"/>: the Pilot batch size of each step).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int? CopilotBatchSize
    {
        get;
        init
        {
            if (value is < 1)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(CopilotBatchSize), value, "must be at least 1");
            }

            field = value;
        }
    }

    /// <summary>The Copilot loss reduction (default <see cref="CopilotLossReduction.RootSumSquare"/>, the paper's Eq. 7:
    /// the root of the sum of squared errors over a sequence, averaged over the batch).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An undefined value.</exception>
    public CopilotLossReduction LossReduction { get; init => field = Require.Defined(value, nameof(LossReduction)); } = CopilotLossReduction.RootSumSquare;

    /// <summary>The Pilot's learning-rate schedule (default <see langword="null"/>: the constant <see cref="PilotLearningRate"/>;
    /// the paper states no schedule). The rate of step <c>t</c> is <c>PilotLearningRate · schedule.Factor(t)</c>.</summary>
    public WarmupCosineSchedule? PilotSchedule { get; init; }

    /// <summary>The Copilot's learning-rate schedule (default <see langword="null"/>: the constant
    /// <see cref="CopilotLearningRate"/>). The rate of step <c>t</c> is <c>CopilotLearningRate · schedule.Factor(t)</c>.</summary>
    public WarmupCosineSchedule? CopilotSchedule { get; init; }

    /// <summary>Seeds the Mistake Log's sampling generator (default 0). It is separate from torch's generator, so the
    /// Pilot's trajectory does not depend on whether a Copilot is trained.</summary>
    public int Seed { get; init; }
}
