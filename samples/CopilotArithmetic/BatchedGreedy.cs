using System;
using System.Collections.Generic;
using System.Linq;
using Logits.Processing.Rectification;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Rectification;
using static TorchSharp.torch;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>
/// Greedy generation of many problems at once: the Pilot alone (argmax of its logits) or fused with a Copilot
/// (paper Algorithm 2, <see cref="CopilotFusion.GreedyToken(ReadOnlySpan{float}, ReadOnlySpan{float}, double, CopilotFusionMode)"/>).
/// </summary>
/// <remarks>
/// Step <c>i</c> runs the Pilot on every unfinished row's tokens so far, reads <c>z_i</c> at the row's last position, builds
/// the memory <c>[e ; h̄]</c> of that pass, and runs the Copilot on its own previous outputs <c>[0, f^C_1 … f^C_{i−1}]</c>
/// with the memory mask of docs/algorithms/paper-methods.md#copilot-decoder (query <c>i</c> sees positions <c>≤ m + i − 1</c>) to get <c>f^C_i</c>. That is what
/// <see cref="CopilotLanguageModel{TPilot}"/> does one problem at a time; the experiment checks that both give the same
/// answers on a subset of the test problems.
/// </remarks>
public static class BatchedGreedy
{
    /// <summary>Generates every answer and reports which are exactly right.</summary>
    /// <param name="pilot">The Pilot.</param>
    /// <param name="copilot">The Copilot, or <see langword="null"/> for the Pilot alone.</param>
    /// <param name="lambda">λ of the fusion (ignored without a Copilot).</param>
    /// <param name="mode">The fusion mode.</param>
    /// <param name="problems">The problems.</param>
    /// <param name="maxAnswerTokens">The generation budget, the end token included.</param>
    /// <returns>Per problem, the generated answer (without the end token) and whether it is exactly right.</returns>
    public static (string[] Answers, bool[] Correct) Run(DecoderTransformer pilot, CopilotDecoder? copilot, double lambda, CopilotFusionMode mode, IReadOnlyList<ArithmeticProblem> problems, int maxAnswerTokens)
    {
        ArgumentNullException.ThrowIfNull(pilot);
        ArgumentNullException.ThrowIfNull(problems);
        int rows = problems.Count, vocab = CharTokenizer.VocabSize;
        var tokens = problems.Select(p => CharTokenizer.Encode(p.Prompt).ToList()).ToArray();
        var promptLengths = tokens.Select(t => t.Count).ToArray();
        var corrections = Enumerable.Range(0, rows).Select(_ => new List<float[]>()).ToArray();
        var finished = new bool[rows];
        bool pilotTraining = pilot.training, copilotTraining = copilot?.training ?? false;
        pilot.eval();
        copilot?.eval();
        try
        {
            for (int step = 1; step <= maxAnswerTokens; step++)
            {
                var active = Enumerable.Range(0, rows).Where(r => !finished[r]).ToArray();
                if (active.Length == 0)
                {
                    break;
                }

                int length = active.Max(r => tokens[r].Count);
                var ids = new long[active.Length * length];
                for (int a = 0; a < active.Length; a++)
                {
                    for (int k = 0; k < tokens[active[a]].Count; k++)
                    {
                        ids[(a * length) + k] = tokens[active[a]][k];
                    }
                }

                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                using var output = ((IPilotModel)pilot).Forward(tensor(ids, new long[] { active.Length, length }));
                var last = tensor(active.Select(r => (long)(tokens[r].Count - 1)).ToArray(), new long[] { active.Length, 1, 1 }).expand(active.Length, 1, vocab);
                float[] logits = output.Logits.gather(1, last).reshape(active.Length, vocab).data<float>().ToArray();
                float[]? f = null;
                if (copilot is not null)
                {
                    // The Copilot's input is its own previous outputs, right-shifted: [0, f^C_1 … f^C_{i−1}].
                    var inputData = new float[active.Length * step * vocab];
                    for (int a = 0; a < active.Length; a++)
                    {
                        for (int j = 1; j < step; j++)
                        {
                            corrections[active[a]][j - 1].CopyTo(inputData, ((a * step) + j) * vocab);
                        }
                    }

                    var input = tensor(inputData, new long[] { active.Length, step, vocab });

                    var pooled = CopilotMath.PoolHiddenStates(output.LayerStates);
                    var memory = cat(new[] { output.Embeddings, pooled }, 1);
                    var mask = CopilotDecoder.MemoryMask(active.Select(r => promptLengths[r]).ToArray(), Enumerable.Repeat(step, active.Length).ToArray(), step, length);
                    f = copilot.forward(input, memory, mask).narrow(1, step - 1, 1).reshape(active.Length, vocab).data<float>().ToArray();
                }

                for (int a = 0; a < active.Length; a++)
                {
                    var z = logits.AsSpan(a * vocab, vocab);
                    int token;
                    if (f is null)
                    {
                        token = ArgMax(z);
                    }
                    else
                    {
                        var correction = f.AsSpan(a * vocab, vocab);
                        corrections[active[a]].Add(correction.ToArray());
                        token = CopilotFusion.GreedyToken(z, correction, (float)lambda, mode);
                    }

                    int r = active[a];
                    tokens[r].Add(token);
                    if (token == CharTokenizer.End || tokens[r].Count >= pilot.MaxSequenceLength)
                    {
                        finished[r] = true;
                    }
                }
            }
        }
        finally
        {
            pilot.train(pilotTraining);
            copilot?.train(copilotTraining);
        }

        var answers = new string[rows];
        var correct = new bool[rows];
        for (int r = 0; r < rows; r++)
        {
            var generated = tokens[r].Skip(promptLengths[r]).ToList();
            bool ended = generated.Count > 0 && generated[^1] == CharTokenizer.End;
            answers[r] = CharTokenizer.Decode(ended ? generated.Take(generated.Count - 1) : generated);
            correct[r] = ended && answers[r] == problems[r].Answer;
        }

        return (answers, correct);
    }

    /// <summary>The first index of the largest value (the library's greedy tie rule).</summary>
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int v = 1; v < values.Length; v++)
        {
            if (values[v] > values[best])
            {
                best = v;
            }
        }

        return best;
    }
}
