using Logits.TorchSharp.Models;

namespace Logits.TorchSharp.Rectification;

/// <summary>
/// The Copilot's per-sequence decoding state for fused generation (paper Algorithm 2): the
/// memory <c>[e ; h̄]</c> of the positions the Pilot has processed, and the corrections <c>f^C_1 … f^C_i</c> produced
/// so far. Batched, with per-row reset.
/// </summary>
/// <remarks>
/// <para>Per row: the first <see cref="Append"/> after a reset receives the prompt's <c>m</c> positions and fixes
/// <c>m</c>; each later append adds the newly processed positions. <see cref="Step"/> then produces <c>f^C_i</c> for
/// every row whose memory covers <c>m + i − 1</c> positions: the Copilot's input is <c>[0, f^C_1, …, f^C_{i−1}]</c>
/// (its own previous outputs, <c>f^C_0 = 0</c>) and query <c>i</c> sees memory <c>k ≤ m + i − 1</c> (the mask of
/// <see cref="CopilotDecoder.MemoryMask"/>). If several positions arrived at once, the missing steps are produced in
/// order.</para>
/// <para>Implementation choice: instead of a self-attention KV cache, each step reruns the Copilot (eval mode,
/// <c>no_grad</c>) over the row's whole prefix and keeps the last output. It is exact (the result equals the
/// teacher-forced forward fed with its own previous outputs) and costs <c>O(i)</c> Copilot positions per step, which
/// is small for a small Copilot. Each row holds three tensors (memory halves and corrections), replaced, not
/// accumulated, on each step, so the live tensor count stays constant.</para>
/// </remarks>
public sealed class CopilotDecodeState : IDisposable
{
    private readonly CopilotDecoder _copilot;
    private readonly List<RowState> _rows = new();

    /// <summary>Creates an empty state.</summary>
    /// <param name="copilot">The Copilot (its device is used for every tensor of the state).</param>
    /// <exception cref="ArgumentNullException"><paramref name="copilot"/> is null.</exception>
    public CopilotDecodeState(CopilotDecoder copilot)
    {
        ArgumentNullException.ThrowIfNull(copilot);
        _copilot = copilot;
    }

    /// <summary>The number of rows the state has seen.</summary>
    public int Rows => _rows.Count;

    /// <summary>V, the length of a correction.</summary>
    public int VocabSize => _copilot.Options.VocabSize;

    /// <summary>m of a row (0 when the row is empty).</summary>
    /// <param name="row">The row.</param>
    /// <returns>The prompt length.</returns>
    public int PromptLength(int row) => Row(row).PromptLength;

    /// <summary>The number of memory positions of a row (<c>m + i − 1</c> after step i).</summary>
    /// <param name="row">The row.</param>
    /// <returns>The memory length per half.</returns>
    public int MemoryLength(int row) => Row(row).MemoryLength;

    /// <summary>i, the number of corrections produced for a row since its reset.</summary>
    /// <param name="row">The row.</param>
    /// <returns>The step count.</returns>
    public int CorrectionCount(int row) => Row(row).CorrectionCount;

    /// <summary>Empties one row: its next append is a new prompt.</summary>
    /// <param name="row">The row, at least 0 (rows beyond <see cref="Rows"/> are created empty).</param>
    public void Reset(int row) => Row(row).Reset();

    /// <summary>Empties every row.</summary>
    public void ResetAll()
    {
        foreach (var state in _rows)
        {
            state.Reset();
        }
    }

    /// <summary>Appends the newly processed positions of one row to its memory.</summary>
    /// <param name="row">The row, at least 0.</param>
    /// <param name="embeddings">The Pilot's embedding output of the new positions, <c>[k, d_P]</c>, k ≥ 1.</param>
    /// <param name="pooledHiddenStates">Their layer-pooled hidden states, <c>[k, d_P]</c>.</param>
    /// <remarks>The first append after a reset sets <c>m = k</c>. Copies are stored in float32 on the Copilot's device;
    /// the inputs are not disposed.</remarks>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">The shapes are not <c>[k, d_P]</c> with matching k ≥ 1.</exception>
    public void Append(int row, Tensor embeddings, Tensor pooledHiddenStates)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(pooledHiddenStates);
        long width = _copilot.Options.PilotWidth;
        if (embeddings.Dimensions != 2 || embeddings.shape[0] < 1 || embeddings.shape[1] != width)
        {
            ThrowHelper.ThrowArgument(nameof(embeddings), $"row {row}: must be [k ≥ 1, {width}]; got [{string.Join(", ", embeddings.shape)}].");
        }

        if (pooledHiddenStates.Dimensions != 2 || pooledHiddenStates.shape[0] != embeddings.shape[0] || pooledHiddenStates.shape[1] != width)
        {
            ThrowHelper.ThrowArgument(nameof(pooledHiddenStates), $"row {row}: must be [{embeddings.shape[0]}, {width}]; got [{string.Join(", ", pooledHiddenStates.shape)}].");
        }

        Row(row).Append(embeddings, pooledHiddenStates, Device);
    }

    /// <summary>Produces the next correction(s) of every row whose memory has grown since its last step.</summary>
    /// <remarks>Runs the Copilot in eval mode under <c>no_grad</c> (its training flag is restored).</remarks>
    public void Step()
    {
        using var evaluation = new EvaluationScope(_copilot);
        while (true)
        {
            var pending = new List<int>();
            for (int r = 0; r < _rows.Count; r++)
            {
                if (_rows[r].NeedsStep)
                {
                    pending.Add(r);
                }
            }

            if (pending.Count == 0)
            {
                return;
            }

            StepRows(pending);
        }
    }

    /// <summary>The latest correction <c>f^C_i</c> of a row, copied to the host.</summary>
    /// <param name="row">The row.</param>
    /// <param name="destination">At least V floats.</param>
    /// <exception cref="InvalidOperationException">The row has no correction yet.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void CopyLatestCorrection(int row, Span<float> destination)
    {
        if (destination.Length < VocabSize)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} values but {VocabSize} are required.");
        }

        using var scope = NewDisposeScope();
        var latest = LatestCorrection(row).to(ScalarType.Float32, CPU).contiguous();
        using var accessor = latest.data<float>();
        accessor.CopyTo(destination[..VocabSize], 0, 0);
    }

    /// <summary>All corrections <c>f^C_1 … f^C_i</c> of a row, <c>[i, V]</c> (a new tensor the caller disposes).</summary>
    /// <param name="row">The row.</param>
    /// <returns>A copy of the corrections.</returns>
    /// <exception cref="InvalidOperationException">The row has no correction yet.</exception>
    public Tensor Corrections(int row)
    {
        var corrections = Row(row).Corrections ?? throw new InvalidOperationException($"Row {row} has no Copilot correction yet.");
        return corrections.clone();
    }

    /// <summary>The latest correction of a row, <c>[V]</c>: a view into the state (valid until the row's next step or reset; the caller disposes the view).</summary>
    /// <param name="row">The row.</param>
    /// <returns>The view.</returns>
    /// <exception cref="InvalidOperationException">The row has no correction yet.</exception>
    public Tensor LatestCorrection(int row)
    {
        var corrections = Row(row).Corrections ?? throw new InvalidOperationException($"Row {row} has no Copilot correction yet.");
        return corrections[corrections.shape[0] - 1];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var state in _rows)
        {
            state.Reset();
        }

        _rows.Clear();
    }

    private Device Device => _copilot.InputProjection.weight!.device;

    private RowState Row(int row)
    {
        if (row < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(row), row, "must be at least 0");
        }

        while (_rows.Count <= row)
        {
            _rows.Add(new RowState());
        }

        return _rows[row];
    }

    /// <summary>One batched Copilot pass producing the next correction of each pending row.</summary>
    private void StepRows(List<int> pending)
    {
        int count = pending.Count;
        long vocab = VocabSize, width = _copilot.Options.PilotWidth;
        var states = pending.Select(r => _rows[r]).ToArray();
        int queries = states.Max(s => s.CorrectionCount + 1);
        int memoryLength = states.Max(s => s.PromptLength + s.CorrectionCount);
        var device = Device;
        using var scope = NewDisposeScope();
        var input = zeros(new long[] { count, queries, vocab }, ScalarType.Float32, device);
        var memory = zeros(new long[] { count, 2L * memoryLength, width }, ScalarType.Float32, device);
        var promptLengths = new int[count];
        var targetLengths = new int[count];
        for (int b = 0; b < count; b++)
        {
            var state = states[b];
            int i = state.CorrectionCount + 1;
            int s = state.PromptLength + i - 1;
            promptLengths[b] = state.PromptLength;
            targetLengths[b] = i;
            if (state.Corrections is not null)
            {
                // Input row j (0-based) is f^C_j: the Copilot's own previous outputs, f^C_0 = 0.
                input[b].narrow(0, 1, i - 1).copy_(state.Corrections);
            }

            memory[b].narrow(0, 0, s).copy_(state.Embeddings!.narrow(0, 0, s));
            memory[b].narrow(0, memoryLength, s).copy_(state.Pooled!.narrow(0, 0, s));
        }

        var mask = CopilotDecoder.MemoryMask(promptLengths, targetLengths, queries, memoryLength, device);
        var output = _copilot.forward(input, memory, mask);
        for (int b = 0; b < count; b++)
        {
            states[b].AddCorrection(output[b][targetLengths[b] - 1]);
        }
    }

    private sealed class RowState
    {
        public Tensor? Embeddings { get; private set; }

        public Tensor? Pooled { get; private set; }

        public Tensor? Corrections { get; private set; }

        public int PromptLength { get; private set; }

        public int MemoryLength => Embeddings is null ? 0 : (int)Embeddings.shape[0];

        public int CorrectionCount => Corrections is null ? 0 : (int)Corrections.shape[0];

        /// <summary>Memory covers m + i − 1 positions for the next i = CorrectionCount + 1.</summary>
        public bool NeedsStep => PromptLength > 0 && MemoryLength >= PromptLength + CorrectionCount;

        public void Append(Tensor embeddings, Tensor pooled, Device device)
        {
            using var scope = NewDisposeScope();
            var e = embeddings.detach().to(ScalarType.Float32, device);
            var h = pooled.detach().to(ScalarType.Float32, device);
            if (Embeddings is null)
            {
                PromptLength = (int)e.shape[0];
                Replace(e.clone(), h.clone());
            }
            else
            {
                Replace(cat(new[] { Embeddings, e }, 0), cat(new[] { Pooled!, h }, 0));
            }
        }

        public void AddCorrection(Tensor correction)
        {
            var row = correction.unsqueeze(0);
            var next = (Corrections is null ? row.clone() : cat(new[] { Corrections, row }, 0)).DetachFromDisposeScope();
            Corrections?.Dispose();
            Corrections = next;
        }

        public void Reset()
        {
            Embeddings?.Dispose();
            Pooled?.Dispose();
            Corrections?.Dispose();
            Embeddings = Pooled = Corrections = null;
            PromptLength = 0;
        }

        private void Replace(Tensor embeddings, Tensor pooled)
        {
            Embeddings?.Dispose();
            Pooled?.Dispose();
            Embeddings = embeddings.DetachFromDisposeScope();
            Pooled = pooled.DetachFromDisposeScope();
        }
    }
}
