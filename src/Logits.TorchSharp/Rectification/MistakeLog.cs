
namespace Logits.TorchSharp.Rectification;

/// <summary>
/// Transformer Copilot's Mistake Log: a buffer (unbounded by default, or a bounded FIFO) of training sequences, each with the Pilot's input
/// representation, its layer-pooled hidden states and its mistake vectors <c>ℓ = onehot(y) − softmax(z)</c>.
/// </summary>
/// <remarks>
/// <para>Zou et al., arXiv 2505.16270, §3 and Algorithm 1: the log grows for the whole fine-tuning run, which is the
/// default here (<see cref="Unbounded"/>). Every entry is dominated by the dense <c>n × V</c> mistake matrix, so a
/// large vocabulary may need a bound: pass a capacity and the oldest entries are evicted first.
/// <see cref="Count"/> and <see cref="StoredBytes"/> report the size either way.</para>
/// <para>Behaviour: <see cref="Append"/> splits a batch into sequences and stores detached copies (never views of
/// the Pilot's buffers) in <see cref="StorageType"/> on <see cref="Device"/>; when the log is over
/// <see cref="Capacity"/> the oldest entries are evicted and disposed. <see cref="Sample"/> draws a batch uniformly
/// at random without replacement from the current contents (the whole log, in log order, when it holds no more than
/// the batch size) with the injectable <see cref="Random"/>, and converts it back to float32.</para>
/// <para>Memory per entry: <c>b · (n·V + 2·(m+n−1)·d_P)</c> bytes for element size <c>b</c> (see
/// <see cref="EstimateEntryBytes"/>); e.g. <c>n = 256, V = 32 000, m+n = 512, d_P = 2048</c> in float32 is about
/// 41 MB. Size the capacity from it. Not thread-safe.</para>
/// </remarks>
public sealed class MistakeLog : IDisposable
{
    /// <summary>The capacity that means "keep every recorded sequence" (the paper's log; the default), bounded only by memory.</summary>
    public const int Unbounded = int.MaxValue;

    private readonly LinkedList<MistakeLogEntry> _entries = new();
    private readonly Random _random;
    private bool _disposed;

    /// <summary>Creates an empty log.</summary>
    /// <param name="capacity">The most sequences kept, at least 1 (default <see cref="Unbounded"/>: every sequence).</param>
    /// <param name="storageType">Float32 (default), BFloat16 or Float16.</param>
    /// <param name="device">Where entries are stored; <see langword="null"/> means the CPU.</param>
    /// <param name="random">The sampling generator; <see langword="null"/> means <c>new Random(0)</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 1 or <paramref name="storageType"/> is not one of the three types.</exception>
    public MistakeLog(int capacity = Unbounded, ScalarType storageType = ScalarType.Float32, Device? device = null, Random? random = null)
    {
        Capacity = Require.AtLeast(capacity, 1, nameof(capacity));

        ValidateStorageType(storageType, nameof(storageType));
        StorageType = storageType;
        Device = device ?? CPU;
        _random = random ?? new Random(0);
    }

    /// <summary>Creates an empty log whose sampling is seeded.</summary>
    /// <param name="capacity">The most sequences kept, at least 1.</param>
    /// <param name="storageType">Float32, BFloat16 or Float16.</param>
    /// <param name="device">Where entries are stored; <see langword="null"/> means the CPU.</param>
    /// <param name="seed">Seeds <c>new Random(seed)</c> for sampling.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 1 or <paramref name="storageType"/> is not one of the three types.</exception>
    public MistakeLog(int capacity, ScalarType storageType, Device? device, int seed)
        : this(capacity, storageType, device, new Random(seed))
    {
    }

    /// <summary>The most sequences kept (<see cref="Unbounded"/>: every sequence).</summary>
    public int Capacity { get; }

    /// <summary>Whether the log evicts old entries (<see langword="false"/> for <see cref="Unbounded"/>).</summary>
    public bool IsBounded => Capacity != Unbounded;

    /// <summary>The number of sequences appended since creation, evicted ones included.</summary>
    public long Appended { get; private set; }

    /// <summary>The element type entries are stored in.</summary>
    public ScalarType StorageType { get; }

    /// <summary>The device entries are stored on.</summary>
    public Device Device { get; }

    /// <summary>The number of sequences held.</summary>
    public int Count => _entries.Count;

    /// <summary>The estimated bytes held by all entries.</summary>
    public long StoredBytes { get; private set; }

    /// <summary>The entries, oldest first (owned by the log: valid until evicted or the log is disposed).</summary>
    public IEnumerable<MistakeLogEntry> Entries => _entries;

    /// <summary>The memory cost of one entry: <c>b · (n·V + 2·(m+n−1)·d_P)</c> bytes.</summary>
    /// <param name="promptLength">m ≥ 1.</param>
    /// <param name="targetLength">n ≥ 1.</param>
    /// <param name="vocabSize">V ≥ 1.</param>
    /// <param name="pilotWidth">d_P ≥ 1.</param>
    /// <param name="storageType">Float32, BFloat16 or Float16 (b = 4, 2, 2).</param>
    /// <returns>The bytes (the <c>n</c>-byte target mask is not counted).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or the storage type is unsupported.</exception>
    public static long EstimateEntryBytes(int promptLength, int targetLength, int vocabSize, int pilotWidth, ScalarType storageType = ScalarType.Float32)
    {
        Positive(promptLength, nameof(promptLength));
        Positive(targetLength, nameof(targetLength));
        Positive(vocabSize, nameof(vocabSize));
        Positive(pilotWidth, nameof(pilotWidth));
        ValidateStorageType(storageType, nameof(storageType));
        long b = storageType == ScalarType.Float32 ? 4 : 2;
        return b * (((long)targetLength * vocabSize) + (2L * (promptLength + targetLength - 1) * pilotWidth));
    }

    /// <summary>Appends one entry per sequence of a batch, evicting the oldest entries beyond <see cref="Capacity"/>.</summary>
    /// <param name="inputRepresentation">The Pilot's embedding output <c>e</c>, <c>[B, T, d_P]</c> with <c>T ≥ m_b + n_b − 1</c>.</param>
    /// <param name="pooledHiddenStates">The pooled hidden states <c>h̄</c>, <c>[B, T, d_P]</c>.</param>
    /// <param name="mistakes">The mistake vectors, <c>[B, n_max, V]</c>: row <c>i − 1</c> of sequence b is <c>ℓ_i</c>, <c>n_max ≥ n_b</c>.</param>
    /// <param name="targetMask">Valid targets, <c>[B, n_max]</c> bool.</param>
    /// <param name="promptLengths">m_b ≥ 1 per sequence.</param>
    /// <param name="targetLengths">n_b ≥ 1 per sequence.</param>
    /// <remarks>Sequence b stores <c>e</c> and <c>h̄</c> rows <c>0 … m_b + n_b − 2</c> and mistake rows <c>0 … n_b − 1</c>,
    /// each detached, converted to <see cref="StorageType"/>, moved to <see cref="Device"/> and copied. Inputs are not
    /// disposed.</remarks>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">The shapes, batch sizes or lengths disagree (the message names the row).</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public void Append(Tensor inputRepresentation, Tensor pooledHiddenStates, Tensor mistakes, Tensor targetMask, ReadOnlySpan<int> promptLengths, ReadOnlySpan<int> targetLengths)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(inputRepresentation);
        ArgumentNullException.ThrowIfNull(pooledHiddenStates);
        ArgumentNullException.ThrowIfNull(mistakes);
        ArgumentNullException.ThrowIfNull(targetMask);
        if (inputRepresentation.Dimensions != 3)
        {
            ThrowHelper.ThrowArgument(nameof(inputRepresentation), "must be [B, T, d_P].");
        }

        long batch = inputRepresentation.shape[0], length = inputRepresentation.shape[1], width = inputRepresentation.shape[2];
        if (pooledHiddenStates.Dimensions != 3 || pooledHiddenStates.shape[0] != batch || pooledHiddenStates.shape[1] != length || pooledHiddenStates.shape[2] != width)
        {
            ThrowHelper.ThrowArgument(nameof(pooledHiddenStates), $"must have the input representation's shape [{batch}, {length}, {width}].");
        }

        if (mistakes.Dimensions != 3 || mistakes.shape[0] != batch)
        {
            ThrowHelper.ThrowArgument(nameof(mistakes), $"must be [{batch}, n_max, V].");
        }

        long targets = mistakes.shape[1];
        if (targetMask.dtype != ScalarType.Bool || targetMask.Dimensions != 2 || targetMask.shape[0] != batch || targetMask.shape[1] != targets)
        {
            ThrowHelper.ThrowArgument(nameof(targetMask), $"must be bool [{batch}, {targets}].");
        }

        if (promptLengths.Length != batch)
        {
            ThrowHelper.ThrowArgument(nameof(promptLengths), $"has {promptLengths.Length} values but the batch has {batch} sequences.");
        }

        if (targetLengths.Length != batch)
        {
            ThrowHelper.ThrowArgument(nameof(targetLengths), $"has {targetLengths.Length} values but the batch has {batch} sequences.");
        }

        for (int b = 0; b < batch; b++)
        {
            int m = promptLengths[b], n = targetLengths[b];
            if (m < 1)
            {
                ThrowHelper.ThrowArgument(nameof(promptLengths), $"row {b}: m = {m} but at least 1 prompt token is required.");
            }

            if (n < 1 || n > targets)
            {
                ThrowHelper.ThrowArgument(nameof(targetLengths), $"row {b}: n = {n} must be in [1, {targets}].");
            }

            if (m + n - 1 > length)
            {
                ThrowHelper.ThrowArgument(nameof(targetLengths), $"row {b}: m + n − 1 = {m + n - 1} exceeds the {length} recorded positions.");
            }
        }

        for (int b = 0; b < batch; b++)
        {
            int m = promptLengths[b], n = targetLengths[b];
            MistakeLogEntry entry;
            using (var scope = NewDisposeScope())
            {
                var e = Store(inputRepresentation[b].narrow(0, 0, m + n - 1));
                var h = Store(pooledHiddenStates[b].narrow(0, 0, m + n - 1));
                var l = Store(mistakes[b].narrow(0, 0, n));
                var mask = targetMask[b].narrow(0, 0, n).to(Device).clone().DetachFromDisposeScope();
                entry = new MistakeLogEntry(e, h, l, mask, m, n);
            }

            _entries.AddLast(entry);
            Appended++;
            StoredBytes += Bytes(entry);
            while (_entries.Count > Capacity)
            {
                var oldest = _entries.First!.Value;
                _entries.RemoveFirst();
                StoredBytes -= Bytes(oldest);
                oldest.Dispose();
            }
        }
    }

    /// <summary>Draws a padded float32 Copilot batch uniformly at random without replacement.</summary>
    /// <param name="batchSize">At least 1; when the log holds no more entries, the batch is the whole log in log order.</param>
    /// <param name="device">Where the batch is built; <see langword="null"/> means <see cref="Device"/>.</param>
    /// <returns>A batch the caller disposes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The log is empty.</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public CopilotBatch Sample(int batchSize, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Require.AtLeast(batchSize, 1, nameof(batchSize));

        if (_entries.Count == 0)
        {
            throw new InvalidOperationException("The Mistake Log is empty: append a batch before sampling.");
        }

        var all = new MistakeLogEntry[_entries.Count];
        _entries.CopyTo(all, 0);
        MistakeLogEntry[] chosen;
        if (all.Length <= batchSize)
        {
            chosen = all;
        }
        else
        {
            // Partial Fisher–Yates: the first batchSize slots are a uniform draw without replacement.
            for (int i = 0; i < batchSize; i++)
            {
                int j = i + _random.Next(all.Length - i);
                (all[i], all[j]) = (all[j], all[i]);
            }

            chosen = all[..batchSize];
        }

        return Assemble(chosen, device ?? Device);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var entry in _entries)
        {
            entry.Dispose();
        }

        _entries.Clear();
        StoredBytes = 0;
    }

    internal static void ValidateStorageType(ScalarType storageType, string name)
    {
        if (storageType is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
        {
            ThrowHelper.ThrowArgumentOutOfRange(name, storageType, "must be Float32, BFloat16 or Float16");
        }
    }

    private static CopilotBatch Assemble(MistakeLogEntry[] chosen, Device device)
    {
        int count = chosen.Length;
        int maxTargets = 0, maxMemory = 0;
        var promptLengths = new int[count];
        var targetLengths = new int[count];
        for (int b = 0; b < count; b++)
        {
            promptLengths[b] = chosen[b].PromptLength;
            targetLengths[b] = chosen[b].TargetLength;
            maxTargets = Math.Max(maxTargets, chosen[b].TargetLength);
            maxMemory = Math.Max(maxMemory, chosen[b].MemoryLength);
        }

        long vocab = chosen[0].Mistakes.shape[1];
        long width = chosen[0].InputRepresentation.shape[1];
        using var scope = NewDisposeScope();
        var mistakes = zeros(new long[] { count, maxTargets, vocab }, ScalarType.Float32, device);
        var mask = zeros(new long[] { count, maxTargets }, ScalarType.Bool, device);
        var memory = zeros(new long[] { count, 2L * maxMemory, width }, ScalarType.Float32, device);
        for (int b = 0; b < count; b++)
        {
            var entry = chosen[b];
            int n = entry.TargetLength, s = entry.MemoryLength;
            mistakes[b].narrow(0, 0, n).copy_(entry.Mistakes.to(ScalarType.Float32, device));
            mask[b].narrow(0, 0, n).copy_(entry.TargetMask.to(device));
            memory[b].narrow(0, 0, s).copy_(entry.InputRepresentation.to(ScalarType.Float32, device));
            memory[b].narrow(0, maxMemory, s).copy_(entry.HiddenStates.to(ScalarType.Float32, device));
        }

        return new CopilotBatch(
            mistakes.MoveToOuterDisposeScope(),
            mask.MoveToOuterDisposeScope(),
            memory.MoveToOuterDisposeScope(),
            promptLengths,
            targetLengths);
    }

    private Tensor Store(Tensor source) =>
        source.detach().to(StorageType, Device).clone().DetachFromDisposeScope();

    private long Bytes(MistakeLogEntry entry) =>
        EstimateEntryBytes(entry.PromptLength, entry.TargetLength, (int)entry.Mistakes.shape[1], (int)entry.InputRepresentation.shape[1], StorageType);

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(name, value, "must be at least 1");
        }
    }
}
