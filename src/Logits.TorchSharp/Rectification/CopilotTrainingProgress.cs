namespace Logits.TorchSharp.Rectification;

/// <summary>The result of one joint training step, also reported as progress.</summary>
/// <param name="Step">The number of completed steps (1 after the first).</param>
/// <param name="PilotLoss">The Pilot's token cross-entropy on the step's targets (nats per target token), before its update.</param>
/// <param name="CopilotLoss">The Copilot loss <c>L^C</c> on the sampled batch before its update; NaN in Pilot-only mode.</param>
/// <param name="TokensPerSecond">Pilot tokens (prompts and targets) of the step divided by the step's wall time.</param>
public readonly record struct CopilotTrainingProgress(int Step, double PilotLoss, double CopilotLoss, double TokensPerSecond)
{
    /// <summary>The Pilot's learning rate used by this step (after its schedule).</summary>
    public double PilotLearningRate { get; init; }

    /// <summary>The Copilot's learning rate used by this step (after its schedule); NaN in Pilot-only mode.</summary>
    public double CopilotLearningRate { get; init; }

    /// <summary>The sequences held by the Mistake Log after this step (0 in Pilot-only mode).</summary>
    public int MistakeLogCount { get; init; }

    /// <summary>The estimated bytes held by the Mistake Log after this step (<see cref="MistakeLog.StoredBytes"/>; 0 in Pilot-only mode).</summary>
    public long MistakeLogBytes { get; init; }
}
