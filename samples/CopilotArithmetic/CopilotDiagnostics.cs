using System;
using System.Collections.Generic;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Rectification;
using static TorchSharp.torch;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>How well a trained Copilot predicts its Pilot's mistakes, teacher-forced, on a set of problems.</summary>
public static class CopilotDiagnostics
{
    /// <summary>
    /// The Copilot's skill on <paramref name="problems"/>: <c>1 − Σ‖f^C − ℓ‖² / Σ‖ℓ‖²</c> over the answer positions,
    /// with <c>ℓ = onehot − softmax(z)</c> from the Pilot and <c>f^C</c> the Copilot teacher-forced on the true mistakes
    /// (exactly its training objective). 0 means no better than predicting "no mistake" (f = 0), 1 a perfect Copilot.
    /// </summary>
    /// <param name="pilot">The trained Pilot.</param>
    /// <param name="copilot">The trained Copilot.</param>
    /// <param name="problems">The problems (e.g. training or validation pairs).</param>
    /// <returns>The skill and the RMS of the mistakes themselves (both over answer positions × vocabulary).</returns>
    public static (double Skill, double MistakeRms) Skill(DecoderTransformer pilot, CopilotDecoder copilot, IReadOnlyList<ArithmeticProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(pilot);
        ArgumentNullException.ThrowIfNull(copilot);
        ArgumentNullException.ThrowIfNull(problems);
        int rows = problems.Count, vocab = CharTokenizer.VocabSize;
        var sequences = new int[rows][];
        var promptLengths = new int[rows];
        var targetLengths = new int[rows];
        int length = 0, maxTargets = 0;
        for (int b = 0; b < rows; b++)
        {
            sequences[b] = CharTokenizer.Encode(problems[b].Text);
            promptLengths[b] = problems[b].Prompt.Length;
            targetLengths[b] = sequences[b].Length - promptLengths[b];
            length = Math.Max(length, sequences[b].Length);
            maxTargets = Math.Max(maxTargets, targetLengths[b]);
        }

        var tokens = new long[rows * length];
        var positions = new long[rows * maxTargets];
        var targets = new long[rows * maxTargets];
        var valid = new bool[rows * maxTargets];
        for (int b = 0; b < rows; b++)
        {
            for (int k = 0; k < sequences[b].Length; k++)
            {
                tokens[(b * length) + k] = sequences[b][k];
            }

            for (int j = 0; j < maxTargets; j++)
            {
                bool isValid = j < targetLengths[b];
                int index = (b * maxTargets) + j;

                // As in the trainer: the logits at position m + j − 1 predict y_{j+1}.
                positions[index] = isValid ? promptLengths[b] + j - 1 : promptLengths[b] - 1;
                targets[index] = isValid ? sequences[b][promptLengths[b] + j] : 0;
                valid[index] = isValid;
            }
        }

        bool pilotTraining = pilot.training, copilotTraining = copilot.training;
        pilot.eval();
        copilot.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var output = ((IPilotModel)pilot).Forward(tensor(tokens, new long[] { rows, length }));
            var gather = tensor(positions, new long[] { rows, maxTargets, 1 }).expand(rows, maxTargets, vocab);
            var mask = tensor(valid, new long[] { rows, maxTargets });
            var mistakes = CopilotMath.MistakeVectors(output.Logits.gather(1, gather), tensor(targets, new long[] { rows, maxTargets }), mask);
            var pooled = CopilotMath.PoolHiddenStates(output.LayerStates);
            var memory = cat(new[] { output.Embeddings, pooled }, 1);
            var memoryMask = CopilotDecoder.MemoryMask(promptLengths, targetLengths, maxTargets, length);
            var prediction = copilot.TeacherForced(mistakes, memory, memoryMask);
            var weight = mask.unsqueeze(-1).to_type(ScalarType.Float32);
            // Products, not square(): TorchSharp's square() is pow(2) with a Scalar the GC may free mid-call.
            var difference = prediction - mistakes;
            double error = (difference * difference * weight).sum().item<float>();
            double baseline = (mistakes * mistakes * weight).sum().item<float>();
            double entries = weight.sum().item<float>() * vocab;
            return (1 - (error / baseline), Math.Sqrt(baseline / entries));
        }
        finally
        {
            pilot.train(pilotTraining);
            copilot.train(copilotTraining);
        }
    }
}
