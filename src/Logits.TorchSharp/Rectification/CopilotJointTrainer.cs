using System.Diagnostics;
using Logits.TorchSharp.Models;

namespace Logits.TorchSharp.Rectification;

/// <summary>
/// Transformer Copilot's joint training loop (paper Algorithm 1): each step trains the Pilot on a batch, records the
/// batch in the Mistake Log from the same forward pass, and trains the Copilot on a batch sampled from the log.
/// </summary>
/// <typeparam name="TPilot">The Pilot: a torch module (parameters, train/eval, save/load) with the
/// <see cref="IPilotModel"/> forward.</typeparam>
/// <remarks>
/// <para>Zou et al., arXiv 2505.16270, Algorithm 1 One <see cref="Step"/>:</para>
/// <list type="number">
/// <item>Pad the batch into <c>[B, T]</c> int64 tokens and run the Pilot (training mode, autograd on) with its
/// current parameters <c>θ^P_{t−1}</c>: logits, embedding output and every layer's hidden states.</item>
/// <item>Gather the logits at positions <c>m + i − 1</c>, which predict <c>y_i</c>. Under <c>no_grad</c>: the
/// mistake vectors <see cref="CopilotMath.MistakeVectors"/> and the pooled states
/// <see cref="CopilotMath.PoolHiddenStates"/>; append one detached copy per sequence to the <see cref="MistakeLog"/>
/// (the whole run by default; the oldest evicted beyond a set capacity). This happens before the Pilot update: no second forward pass.</item>
/// <item>Pilot loss: token cross-entropy over the valid targets (mean); backward; AdamW step (η_P, times
/// <see cref="CopilotTrainerOptions.PilotSchedule"/>'s factor when set). The Copilot has no influence on it.</item>
/// <item>Sample a Copilot batch (after the append, so it may contain this step's sequences), run the Copilot
/// teacher-forced on the right-shifted true mistakes with the masked memory, compute <see cref="CopilotMath.CopilotLoss"/>,
/// backward, AdamW step (η_C, times <see cref="CopilotTrainerOptions.CopilotSchedule"/>'s factor when set). The memory is a detached copy, so no gradient reaches the Pilot.</item>
/// </list>
/// <para>Pilot-only mode (<c>copilot: null</c>): the same Pilot code path without recording and without steps of the
/// Copilot; the fair baseline. The Copilot's randomness (its weights, its dropout masks, the log's sampling
/// <see cref="Random"/>) never touches torch's global generator, so the Pilot's weights after N steps are identical
/// with and without a Copilot.</para>
/// <para>Reproducible given the initial weights, the batches and <see cref="CopilotTrainerOptions.Seed"/> (libtorch CPU
/// kernels are deterministic for a fixed thread count). Cancellation is checked before every step and throws
/// <see cref="OperationCanceledException"/>; the models keep the weights of the last completed step. Checkpoints hold
/// both models' parameters (TorchSharp <c>save</c>/<c>load</c>), not the optimizer state or the Mistake Log.</para>
/// </remarks>
public sealed class CopilotJointTrainer<TPilot> : IDisposable
    where TPilot : nn.Module, IPilotModel
{
    /// <summary>The file name of the Pilot's weights inside a checkpoint directory.</summary>
    public const string PilotCheckpointFile = "pilot.bin";

    /// <summary>The file name of the Copilot's weights inside a checkpoint directory.</summary>
    public const string CopilotCheckpointFile = "copilot.bin";

    private readonly CopilotTrainerOptions _options;
    private readonly HeldScalarAdamW _pilotOptimizer;
    private readonly HeldScalarAdamW? _copilotOptimizer;

    /// <summary>Creates the trainer and its two AdamW optimizers.</summary>
    /// <param name="pilot">The Pilot to fine-tune.</param>
    /// <param name="copilot">The Copilot to train alongside, or <see langword="null"/> for Pilot-only training.</param>
    /// <param name="options">Settings (null: defaults).</param>
    /// <exception cref="ArgumentNullException"><paramref name="pilot"/> is null.</exception>
    /// <exception cref="ArgumentException">The Copilot's vocabulary or Pilot width differs from the Pilot's.</exception>
    public CopilotJointTrainer(TPilot pilot, CopilotDecoder? copilot, CopilotTrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pilot);
        _options = options ?? new CopilotTrainerOptions();
        copilot?.CheckReads(pilot, nameof(copilot));
        Pilot = pilot;
        Copilot = copilot;
        _pilotOptimizer = new HeldScalarAdamW(pilot.parameters(), _options.PilotLearningRate, weightDecay: _options.WeightDecay);
        if (copilot is not null)
        {
            _copilotOptimizer = new HeldScalarAdamW(copilot.parameters(), _options.CopilotLearningRate, weightDecay: _options.WeightDecay);
            MistakeLog = new MistakeLog(_options.MistakeLogCapacity, _options.MistakeLogStorageType, _options.MistakeLogDevice, _options.Seed);
        }
    }

    /// <summary>The Pilot.</summary>
    public TPilot Pilot { get; }

    /// <summary>The Copilot (<see langword="null"/> in Pilot-only mode).</summary>
    public CopilotDecoder? Copilot { get; }

    /// <summary>The Mistake Log (<see langword="null"/> in Pilot-only mode).</summary>
    public MistakeLog? MistakeLog { get; }

    /// <summary>The number of completed steps.</summary>
    public int Steps { get; private set; }

    /// <summary>Runs one joint step (the steps above).</summary>
    /// <param name="batch">The Pilot batch.</param>
    /// <returns>The step's losses and throughput.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> is null.</exception>
    /// <exception cref="ArgumentException">A sequence is longer than the Pilot accepts or holds an id outside its vocabulary.</exception>
    public CopilotTrainingProgress Step(CopilotTrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var clock = Stopwatch.StartNew();
        int rows = batch.Count, length = batch.MaxLength, vocab = Pilot.VocabSize;
        if (length > Pilot.MaxSequenceLength)
        {
            ThrowHelper.ThrowArgument(nameof(batch), $"has a sequence of {length} tokens but the Pilot accepts at most {Pilot.MaxSequenceLength}.");
        }

        var promptLengths = new int[rows];
        var targetLengths = new int[rows];
        int maxTargets = 0;
        for (int b = 0; b < rows; b++)
        {
            promptLengths[b] = batch.PromptLength(b);
            targetLengths[b] = batch.TargetLength(b);
            maxTargets = Math.Max(maxTargets, targetLengths[b]);
        }

        var tokens = new long[rows * length];
        var positions = new long[rows * maxTargets];
        var targets = new long[rows * maxTargets];
        var valid = new bool[rows * maxTargets];
        for (int b = 0; b < rows; b++)
        {
            var sequence = batch.Sequence(b);
            for (int k = 0; k < sequence.Length; k++)
            {
                if (sequence[k] >= vocab)
                {
                    ThrowHelper.ThrowArgument(nameof(batch), $"row {b} holds the id {sequence[k]} at position {k}, outside the vocabulary [0, {vocab}).");
                }

                tokens[(b * length) + k] = sequence[k];
            }

            int m = promptLengths[b];
            for (int j = 0; j < maxTargets; j++)
            {
                bool isValid = j < targetLengths[b];
                int index = (b * maxTargets) + j;

                // Logits at position m + j − 1 (0-based) predict y_{j+1} = s[m + j]; padding queries point at a valid position.
                positions[index] = isValid ? m + j - 1 : m - 1;
                targets[index] = isValid ? sequence[m + j] : -100;
                valid[index] = isValid;
            }
        }

        double pilotLoss, copilotLoss = double.NaN;
        int update = Steps + 1;
        _pilotOptimizer.LearningRate = _options.PilotLearningRate * (_options.PilotSchedule?.Factor(update) ?? 1);
        if (_copilotOptimizer is not null)
        {
            _copilotOptimizer.LearningRate = _options.CopilotLearningRate * (_options.CopilotSchedule?.Factor(update) ?? 1);
        }

        using (var scope = NewDisposeScope())
        {
            var device = DeviceOf(Pilot);
            var tokenTensor = tensor(tokens, new long[] { rows, length }, device: device);
            var targetTensor = tensor(targets, new long[] { rows, maxTargets }, device: device);
            var maskTensor = tensor(valid, new long[] { rows, maxTargets }, device: device);
            var gather = tensor(positions, new long[] { rows, maxTargets, 1 }, device: device).expand(rows, maxTargets, vocab);
            Pilot.train();
            using var output = Pilot.Forward(tokenTensor);
            var logits = output.Logits.gather(1, gather);
            if (MistakeLog is not null)
            {
                // Recorded from this forward pass, with θ^P_{t−1}, before the Pilot step.
                using var noGrad = no_grad();
                var mistakes = CopilotMath.MistakeVectors(logits, targetTensor, maskTensor);
                var pooled = CopilotMath.PoolHiddenStates(output.LayerStates);
                MistakeLog.Append(output.Embeddings, pooled, mistakes, maskTensor, promptLengths, targetLengths);
            }

            var loss = nn.functional.cross_entropy(logits.reshape(rows * maxTargets, vocab).to_type(ScalarType.Float32), targetTensor.reshape(rows * maxTargets), ignore_index: -100);
            _pilotOptimizer.ZeroGrad();
            loss.backward();
            _pilotOptimizer.Step();
            pilotLoss = loss.item<float>();
        }

        if (Copilot is not null)
        {
            using var scope = NewDisposeScope();
            using var sample = MistakeLog!.Sample(_options.CopilotBatchSize ?? rows, DeviceOf(Copilot));
            Copilot.train();
            var prediction = Copilot.TeacherForced(sample);
            var loss = CopilotMath.CopilotLoss(prediction, sample.Mistakes, sample.TargetMask, _options.LossReduction);
            _copilotOptimizer!.ZeroGrad();
            loss.backward();
            _copilotOptimizer.Step();
            copilotLoss = loss.item<float>();
        }

        Steps++;
        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        return new CopilotTrainingProgress(Steps, pilotLoss, copilotLoss, batch.TokenCount / seconds)
        {
            PilotLearningRate = _pilotOptimizer.LearningRate,
            CopilotLearningRate = _copilotOptimizer?.LearningRate ?? double.NaN,
            MistakeLogCount = MistakeLog?.Count ?? 0,
            MistakeLogBytes = MistakeLog?.StoredBytes ?? 0,
        };
    }

    /// <summary>Runs one step per batch until the batches end.</summary>
    /// <param name="batches">The Pilot batches (e.g. <c>source.Take(steps)</c>).</param>
    /// <param name="progress">Receives the result of every step.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>The result of the last step (default when there was none).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batches"/> is null.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the models keep the last completed step.</exception>
    public CopilotTrainingProgress Train(IEnumerable<CopilotTrainingBatch> batches, IProgress<CopilotTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        CopilotTrainingProgress last = default;
        foreach (var batch in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            last = Step(batch);
            progress?.Report(last);
        }

        return last;
    }

    /// <summary>Saves both models' parameters into <paramref name="directory"/> (created if missing).</summary>
    /// <param name="directory">The checkpoint directory.</param>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is null or empty.</exception>
    public void SaveCheckpoint(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        Pilot.save(Path.Combine(directory, PilotCheckpointFile));
        Copilot?.save(Path.Combine(directory, CopilotCheckpointFile));
    }

    /// <summary>Loads both models' parameters from a directory written by <see cref="SaveCheckpoint"/> (in place, so the
    /// optimizers keep working on them).</summary>
    /// <param name="directory">The checkpoint directory.</param>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">A model file is missing.</exception>
    public void LoadCheckpoint(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string pilotPath = Path.Combine(directory, PilotCheckpointFile);
        if (!File.Exists(pilotPath))
        {
            throw new FileNotFoundException("The checkpoint has no Pilot weights.", pilotPath);
        }

        Pilot.load(pilotPath);
        if (Copilot is not null)
        {
            string copilotPath = Path.Combine(directory, CopilotCheckpointFile);
            if (!File.Exists(copilotPath))
            {
                throw new FileNotFoundException("The checkpoint has no Copilot weights.", copilotPath);
            }

            Copilot.load(copilotPath);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _pilotOptimizer.Dispose();
        _copilotOptimizer?.Dispose();
        MistakeLog?.Dispose();
    }

    private static Device DeviceOf(nn.Module module) =>
        module.parameters().FirstOrDefault()?.device ?? CPU;
}
