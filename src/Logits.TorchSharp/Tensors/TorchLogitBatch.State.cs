using System.Diagnostics.CodeAnalysis;

namespace Logits.TorchSharp.Tensors;

/// <summary>
/// What a torch batch remembers within one pipeline call, so that a call needs as few device-to-host transfers as
/// possible (on a GPU each is a synchronisation): the host copy of the row maxima, kept up to date by every kernel
/// that writes the batch, and the checks it deferred (the entry check, a scale overflow, a scatter-add overflow),
/// whose flags stay on the device until the batch's next host read carries them along.
/// </summary>
/// <remarks>
/// A deferred check throws the very exception the eager check would have thrown (same row, token, value and stage),
/// only later: at the batch's next host read (the selector's token read, a row-maximum read, a copy out), when the
/// tensor is handed out, or at the end of the pipeline call, whichever comes first. Checks are kept in the order they
/// were made and the earliest failing one throws. Outside a pipeline call nothing is remembered or deferred.
/// </remarks>
public sealed partial class TorchLogitBatch
{
    private readonly List<PendingCheck> _pending = new();
    private float[] _maxima = Array.Empty<float>();
    private bool _maximaKnown;
    private int[] _topPrefix = Array.Empty<int>();
    private bool _topPrefixKnown;

    /// <summary>Whether the batch holds a deferred check (only within a pipeline call).</summary>
    internal bool HasPendingChecks => _pending.Count > 0;

    /// <inheritdoc />
    private protected override void OnPipelineCallStarted() => ForgetRowFacts();

    /// <inheritdoc />
    private protected override void OnPipelineCallEnded()
    {
        ForgetRowFacts();
        ResolvePending();
    }

    /// <summary>
    /// The pipeline's entry check, deferred: one row-maximum pass on the device records whether some entry is NaN or
    /// <c>+∞</c> and keeps a copy of the first such row; nothing crosses to the host until the next read.
    /// </summary>
    private protected override void CheckEntries()
    {
        if (!InPipelineCall)
        {
            base.CheckEntries();
            return;
        }

        if (!_maximaKnown)
        {
            DeferRowCheck(_tensor, "input");
        }
    }

    /// <summary>
    /// The empty-row guard of a processor on the device: one row-maximum pass marks the all-<c>-∞</c> rows in a device
    /// mask, their token 0 becomes 0 so the processor's kernels see no empty row, and
    /// <see cref="RestoreEmptyRowsOnDevice"/> masks them back to all <c>-∞</c>. Nothing crosses to the host. Only inside a
    /// pipeline call whose entries are checked and when the row maxima are not remembered (then the host guard is free).
    /// </summary>
    private protected override IDisposable? GuardEmptyRowsOnDevice()
    {
        if (!InPipelineCall || !EntriesChecked || _maximaKnown)
        {
            return null;
        }

        Tensor emptyRows;
        using (var scope = NewDisposeScope())
        {
            emptyRows = _tensor.amax(new long[] { 1 }, keepdim: true).isneginf().DetachFromDisposeScope();
            _tensor.narrow(1, 0, 1).masked_fill_(emptyRows, TorchScalars.Zero);
        }

        // The filled rows' maxima are now 0 and their top prefixes moved.
        ForgetRowFacts();
        return emptyRows;
    }

    /// <summary>Ends <see cref="GuardEmptyRowsOnDevice"/>: the guarded rows become all <c>-∞</c> again.</summary>
    private protected override void RestoreEmptyRowsOnDevice(IDisposable guard)
    {
        using var emptyRows = (Tensor)guard;
        _tensor.masked_fill_(emptyRows, TorchScalars.NegativeInfinity);

        // Remembered maxima of the guarded rows would be those of the temporary entry.
        ForgetMaxima();
    }

    /// <summary>Ends what the batch remembers because its memory leaves the kernels' control; deferred checks are made first.</summary>
    private void Expose()
    {
        ResolvePending();
        ForgetEntriesChecked();
        ForgetRowFacts();
    }

    /// <summary>The remembered row maxima (checked, exact), if any.</summary>
    internal bool TryGetMaxima(out ReadOnlySpan<float> maxima)
    {
        maxima = _maximaKnown ? _maxima.AsSpan(0, Rows) : ReadOnlySpan<float>.Empty;
        return _maximaKnown;
    }

    /// <summary>Remembers the checked row maxima (within a pipeline call only).</summary>
    internal void RememberMaxima(ReadOnlySpan<float> maxima)
    {
        if (!InPipelineCall)
        {
            _maximaKnown = false;
            return;
        }

        if (_maxima.Length < Rows)
        {
            _maxima = new float[Rows];
        }

        maxima.CopyTo(_maxima);
        _maximaKnown = true;
    }

    /// <summary>Forgets the row maxima (a kernel wrote the batch in a way that may move them).</summary>
    internal void ForgetMaxima() => _maximaKnown = false;

    /// <summary>Forgets everything remembered about the rows (maxima and top prefixes).</summary>
    internal void ForgetRowFacts()
    {
        _maximaKnown = false;
        _topPrefixKnown = false;
    }

    /// <summary>
    /// The remembered top prefixes, if any: for each row a length <c>k</c> such that every finite entry outside the
    /// row's <c>k</c> largest equals the <c>k</c>-th largest (true right after a top-k mask, and kept by any later
    /// write that keeps the order and only removes the lowest entries: a scale, a threshold mask). A top-p cut then
    /// only needs the <c>k</c> largest values, not a sort of the row.
    /// </summary>
    internal bool TryGetTopPrefix(out ReadOnlySpan<int> prefix)
    {
        prefix = _topPrefixKnown ? _topPrefix.AsSpan(0, Rows) : ReadOnlySpan<int>.Empty;
        return _topPrefixKnown;
    }

    /// <summary>Remembers the top prefixes (within a pipeline call only).</summary>
    internal void RememberTopPrefix(ReadOnlySpan<int> prefix)
    {
        if (!InPipelineCall)
        {
            _topPrefixKnown = false;
            return;
        }

        if (_topPrefix.Length < Rows)
        {
            _topPrefix = new int[Rows];
        }

        prefix.CopyTo(_topPrefix);
        _topPrefixKnown = true;
    }

    /// <summary>Forgets the top prefixes.</summary>
    internal void ForgetTopPrefix() => _topPrefixKnown = false;

    /// <summary>
    /// Defers the check of <paramref name="values"/> (this batch's tensor, or a result about to be copied into it):
    /// a NaN or <c>+∞</c> entry will throw <see cref="InvalidLogitsException"/> with <paramref name="stage"/> at its first
    /// (row, token). One row-maximum pass and a copy of one row, on the device.
    /// </summary>
    internal void DeferRowCheck(Tensor values, string stage)
    {
        _maximaKnown = false;
        using var scope = NewDisposeScope();
        var maxima = values.amax(new long[] { 1 });
        var bad = maxima.isnan().logical_or(maxima.isposinf());
        var flag = bad.any().to_type(ScalarType.Float64).reshape(1);
        var row = bad.to_type(ScalarType.Int32).argmax();
        var saved = values.index_select(0, row.reshape(1));
        _pending.Add(new RowCheck(flag.DetachFromDisposeScope(), row.DetachFromDisposeScope(), saved.DetachFromDisposeScope(), stage));
    }

    /// <summary>
    /// Defers the empty-row check of a kernel that needs a distribution: a row whose maximum in
    /// <paramref name="maxima"/> (a <c>[rows, 1]</c> device tensor of this batch's row maxima) is <c>-∞</c> will throw
    /// <see cref="NoViableTokenException"/> with <paramref name="stage"/> for the lowest such row. Device work only.
    /// </summary>
    internal void DeferEmptyRowCheck(Tensor maxima, string stage)
    {
        using var scope = NewDisposeScope();
        var empty = maxima.reshape(-1).isneginf();
        var flag = empty.any().to_type(ScalarType.Float64).reshape(1);
        var row = empty.to_type(ScalarType.Int32).argmax();
        _pending.Add(new EmptyRowCheck(flag.DetachFromDisposeScope(), row.DetachFromDisposeScope(), stage));
    }

    /// <summary>
    /// Defers the check of the entries a scatter-add touched: <paramref name="after"/> holds their values (created in
    /// the caller's scope; this keeps a handle), <paramref name="rows"/> and <paramref name="columns"/> their positions.
    /// </summary>
    internal void DeferTouchedCheck(Tensor after, long[] rows, long[] columns, string stage)
    {
        _maximaKnown = false;
        using var scope = NewDisposeScope();
        var flag = after.isnan().logical_or(after.isposinf()).any().to_type(ScalarType.Float64).reshape(1);
        var kept = after.clone();
        _pending.Add(new TouchedCheck(flag.DetachFromDisposeScope(), kept.DetachFromDisposeScope(), rows, columns, stage));
    }

    /// <summary>Makes the deferred checks now: one host read of their flags, then the earliest failing one throws.</summary>
    internal void ResolvePending()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        double[] flags;
        using (var scope = NewDisposeScope())
        {
            flags = TorchHostReads.Doubles(cat(FlagTensors(), 0));
        }

        ThrowIfFlagged(flags);
    }

    /// <summary>
    /// Copies <paramref name="payload"/> (any numeric dtype, values exact in float64: float32 values, token ids, counts)
    /// to the host, flattened, in the same transfer as the flags of the deferred checks, which are then made first.
    /// </summary>
    internal double[] Read(Tensor payload)
    {
        using var scope = NewDisposeScope();
        var flat = payload.to_type(ScalarType.Float64).reshape(-1);
        if (_pending.Count == 0)
        {
            return TorchHostReads.Doubles(flat);
        }

        var parts = new List<Tensor>(FlagTensors()) { flat };
        double[] all = TorchHostReads.Doubles(cat(parts, 0));
        int flags = _pending.Count;
        ThrowIfFlagged(all.AsSpan(0, flags));
        return all[flags..];
    }

    private Tensor[] FlagTensors()
    {
        var flags = new Tensor[_pending.Count];
        for (int i = 0; i < flags.Length; i++)
        {
            flags[i] = _pending[i].Flag;
        }

        return flags;
    }

    private void ThrowIfFlagged(ReadOnlySpan<double> flags)
    {
        try
        {
            for (int i = 0; i < flags.Length; i++)
            {
                if (flags[i] != 0)
                {
                    _pending[i].Throw();
                }
            }
        }
        finally
        {
            DropPending();
        }
    }

    /// <summary>Drops the deferred checks and their device tensors.</summary>
    private void DropPending()
    {
        foreach (var check in _pending)
        {
            check.Dispose();
        }

        _pending.Clear();
    }

    /// <summary>A check made on the device whose verdict (<see cref="Flag"/>, a one-element float64 tensor) is read later.</summary>
    private abstract class PendingCheck : IDisposable
    {
        protected PendingCheck(Tensor flag) => Flag = flag;

        /// <summary>1 when the check failed, else 0.</summary>
        public Tensor Flag { get; }

        /// <summary>Diagnoses the failure (cold path, any number of reads) and throws.</summary>
        [DoesNotReturn]
        public abstract void Throw();

        public virtual void Dispose() => Flag.Dispose();
    }

    /// <summary>A row-maximum check with a copy of the first failing row.</summary>
    private sealed class RowCheck(Tensor flag, Tensor row, Tensor saved, string stage) : PendingCheck(flag)
    {
        [DoesNotReturn]
        public override void Throw()
        {
            int token;
            float value;
            int rowIndex;
            using (var scope = NewDisposeScope())
            {
                rowIndex = (int)TorchHostReads.Item<long>(row);
                var values = saved.select(0, 0);
                var invalid = values.isnan().logical_or(values.isposinf()).to_type(ScalarType.Int32);

                // argmax returns the first maximal index, i.e. the lowest invalid token.
                token = (int)TorchHostReads.Item<long>(invalid.argmax());
                value = TorchHostReads.Item<float>(values.select(0, token));
            }

            ThrowHelper.ThrowInvalidLogits(rowIndex, token, value, stage);
        }

        public override void Dispose()
        {
            base.Dispose();
            row.Dispose();
            saved.Dispose();
        }
    }

    /// <summary>An empty-row check: the lowest all-<c>-∞</c> row throws <see cref="NoViableTokenException"/>.</summary>
    private sealed class EmptyRowCheck(Tensor flag, Tensor row, string stage) : PendingCheck(flag)
    {
        [DoesNotReturn]
        public override void Throw()
        {
            // argmax returns the first maximal index, i.e. the lowest empty row.
            ThrowHelper.ThrowNoViableToken((int)TorchHostReads.Item<long>(row), stage);
        }

        public override void Dispose()
        {
            base.Dispose();
            row.Dispose();
        }
    }

    /// <summary>A check of the entries a scatter-add touched; the lowest (row, token) holding NaN or <c>+∞</c> throws.</summary>
    private sealed class TouchedCheck(Tensor flag, Tensor after, long[] rows, long[] columns, string stage) : PendingCheck(flag)
    {
        [DoesNotReturn]
        public override void Throw()
        {
            float[] values = TorchHostReads.Singles(after);
            int badRow = int.MaxValue;
            int badToken = int.MaxValue;
            float badValue = 0;
            for (int j = 0; j < values.Length; j++)
            {
                bool invalid = float.IsNaN(values[j]) || float.IsPositiveInfinity(values[j]);
                if (invalid && (rows[j] < badRow || (rows[j] == badRow && columns[j] < badToken)))
                {
                    badRow = (int)rows[j];
                    badToken = (int)columns[j];
                    badValue = values[j];
                }
            }

            ThrowHelper.ThrowInvalidLogits(badRow, badToken, badValue, stage);
        }

        public override void Dispose()
        {
            base.Dispose();
            after.Dispose();
        }
    }
}
