using System.Diagnostics.CodeAnalysis;

namespace Logits.TorchSharp.Tensors;

/// <summary>The torch implementation of <see cref="ILogitKernels"/> over <see cref="TorchLogitBatch"/> tensors.</summary>
/// <remarks>
/// <para>Every operation runs torch ops on the tensor's device; every temporary tensor lives in a
/// <c>torch.NewDisposeScope()</c> and inputs are never disposed. Every device-to-host transfer goes through
/// <see cref="TorchHostReads"/> (counted; on a GPU each is a synchronisation).</para>
/// <para>Outside a pipeline call a kernel checks its input with one host read of the row maxima (NaN/+∞/empty rows),
/// then reads its per-row results if it has any. Inside a pipeline call (<see cref="LogitBatch.EntriesChecked"/>) the
/// input is trusted, so masks, the fused truncations (<see cref="MaskBelowKthLargest"/>, <see cref="MaskBelowTopP"/>,
/// <see cref="MaskBelowMaxPlus"/>, <see cref="MaskBelowRowThreshold"/>, <see cref="MaskOutsideTypical"/>,
/// <see cref="MaskExceptTokens"/>), <see cref="PenalizeTokens"/> and scaling read nothing; the batch remembers the row
/// maxima once read and keeps them up to date through every write; the entry check and the overflow checks of Scale,
/// ScatterAdd and PenalizeTokens are made on the device and their flags ride along with the batch's next host read (the
/// selector's tokens), which then throws the same exception eagerly checking would have thrown (see
/// <see cref="TorchLogitBatch"/>). A pipeline <c>Sample</c> call of the default chain, greedy, the penalties, the
/// threshold truncations, typical, allowed tokens, Gumbel or Mirostat 2.0 makes one host read: the tokens (with
/// <see cref="SampleWithinSurprise"/>'s probabilities, and <see cref="SampleGumbel"/>'s finite counts).</para>
/// <para>Results are computed into temporaries, checked, and only then copied into the destination, so a failed call
/// leaves the destination unchanged, except the calls whose check is deferred inside a pipeline call (the batch is then
/// being rewritten in place anyway) and ScatterAdd, which updates in place, then checks the touched entries.</para>
/// </remarks>
internal sealed partial class TorchKernels : ILogitKernels
{
    private TorchKernels()
    {
    }

    /// <summary>The one kernel set, shared by every torch batch on every device.</summary>
    public static TorchKernels Instance { get; } = new();

    /// <summary>A singleton serves every device, so the name does not include one.</summary>
    public string Name => "torch";

    /// <summary>Returns <paramref name="batch"/> as a torch batch, or throws naming the parameter.</summary>
    private static TorchLogitBatch RequireTorch(LogitBatch batch, string paramName)
    {
        ArgumentNullException.ThrowIfNull(batch, paramName);
        return batch as TorchLogitBatch ?? throw new ArgumentException(
            $"'{paramName}' is a {batch.GetType().Name}; the torch kernels need a {nameof(TorchLogitBatch)} (all batches of one call share a backend).",
            paramName);
    }

    /// <summary>The input and destination of an element-wise kernel: <c>x</c> as a torch batch, and <c>destination</c> as
    /// one of the same shape and device (throwing with the parameter names <c>x</c> and <c>destination</c>).</summary>
    private static (TorchLogitBatch Input, TorchLogitBatch Output) RequirePair(LogitBatch x, LogitBatch destination)
    {
        var input = RequireTorch(x, nameof(x));
        return (input, RequireLike(input, destination, nameof(destination)));
    }

    /// <summary>Returns <paramref name="other"/> as a torch batch with the shape and device of <paramref name="x"/>.</summary>
    private static TorchLogitBatch RequireLike(TorchLogitBatch x, LogitBatch other, string paramName)
    {
        var batch = RequireTorch(other, paramName);
        x.EnsureSameShape(batch, paramName);
        Device expected = x.Device;
        Device actual = batch.Device;
        if (expected.type != actual.type || expected.index != actual.index)
        {
            ThrowHelper.ThrowArgument(paramName, $"is on device {actual} but {expected} is required (all batches of one call share a device).");
        }

        return batch;
    }

    /// <summary>Throws unless a per-row span is exactly <paramref name="rows"/> long.</summary>
    private static void RequireRowLength(int length, int rows, string paramName)
    {
        if (length != rows)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {length} elements but one per row ({rows}) is required.");
        }
    }

    /// <summary>
    /// Per-row maxima of <paramref name="x"/> on the host, after the contract's checks: a row whose maximum is NaN or
    /// <c>+∞</c> (both propagate through max) throws <see cref="InvalidLogitsException"/> at its first such token with
    /// stage <c>"input"</c>; when <paramref name="emptyStage"/> is given, an all-<c>-∞</c> row throws
    /// <see cref="NoViableTokenException"/>. Rows are checked in order, so the lowest offending row wins whichever
    /// error it has (as the reference does). Within a pipeline call the batch remembers the maxima, so only the first
    /// call reads them (and that read carries the batch's deferred checks, which are made first).
    /// </summary>
    private static float[] CheckedMaxima(TorchLogitBatch x, string? emptyStage)
    {
        if (x.TryGetMaxima(out var known))
        {
            var maxima = known.ToArray();
            if (emptyStage is not null)
            {
                for (int row = 0; row < maxima.Length; row++)
                {
                    if (float.IsNegativeInfinity(maxima[row]))
                    {
                        ThrowHelper.ThrowNoViableToken(row, emptyStage);
                    }
                }
            }

            return maxima;
        }

        float[] read;
        using (var scope = NewDisposeScope())
        {
            read = Singles(x.Read(x.Values.amax(new long[] { 1 })));
        }

        for (int row = 0; row < read.Length; row++)
        {
            float max = read[row];
            if (float.IsNaN(max) || float.IsPositiveInfinity(max))
            {
                ThrowInvalidInRow(x.Values, row, "input");
            }

            if (emptyStage is not null && float.IsNegativeInfinity(max))
            {
                ThrowHelper.ThrowNoViableToken(row, emptyStage);
            }
        }

        x.RememberMaxima(read);
        return read;
    }

    /// <summary>
    /// The row maxima of <paramref name="x"/> as a <c>[rows, 1]</c> device tensor (in the caller's scope), with the checks of
    /// <see cref="CheckedMaxima"/> (an all-<c>-∞</c> row throws <see cref="NoViableTokenException"/> with
    /// <paramref name="emptyStage"/>). Inside a pipeline call with trusted entries and unknown maxima, the maxima stay on
    /// the device and the empty-row check is deferred to the batch's next host read; otherwise as
    /// <see cref="CheckedMaxima"/> (a read unless the maxima are remembered).
    /// </summary>
    private static Tensor MaximaColumn(TorchLogitBatch x, string emptyStage)
    {
        if (x.InPipelineCall && x.EntriesChecked && !x.TryGetMaxima(out _))
        {
            var maxima = x.Values.amax(new long[] { 1 }, keepdim: true);
            x.DeferEmptyRowCheck(maxima, emptyStage);
            return maxima;
        }

        return Column(CheckedMaxima(x, emptyStage), x.Device);
    }

    /// <summary>
    /// The input check of a kernel that needs no maxima: nothing when the batch's entries are trusted (the pipeline
    /// checked them, or the maxima are remembered) and empty rows are allowed; otherwise <see cref="CheckedMaxima"/>.
    /// </summary>
    private static void CheckInput(TorchLogitBatch x, string? emptyStage)
    {
        if (emptyStage is null && IsTrusted(x))
        {
            return;
        }

        CheckedMaxima(x, emptyStage);
    }

    /// <summary>Whether no entry of <paramref name="x"/> is NaN or <c>+∞</c> (or a deferred check will say so).</summary>
    private static bool IsTrusted(TorchLogitBatch x) => x.EntriesChecked || x.TryGetMaxima(out _);

    /// <summary>
    /// Makes the deferred checks of <paramref name="x"/> before a kernel writes another batch from it (which could
    /// otherwise carry a bad value past them); free when there are none.
    /// </summary>
    private static void ResolveBeforeWritingElsewhere(TorchLogitBatch x, TorchLogitBatch destination)
    {
        if (!ReferenceEquals(x, destination))
        {
            x.ResolvePending();
        }
    }

    /// <summary>Float64 host values (exact float32 values) as float32.</summary>
    private static float[] Singles(double[] values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = (float)values[i];
        }

        return result;
    }

    /// <summary>
    /// The check of an element-wise kernel, matching the CPU loop: the first (row, token) where an input or the
    /// result is NaN or <c>+∞</c> throws; stage <c>"input"</c> when an input holds the bad value there, else
    /// <paramref name="stage"/> (an overflow or <c>∞ - ∞</c> caused by the kernel itself).
    /// </summary>
    private static void CheckElementwise(Tensor result, string stage, params Tensor?[] inputs)
    {
        using var scope = NewDisposeScope();
        var bad = result.isnan().logical_or(result.isposinf());
        foreach (var input in inputs)
        {
            if (input is not null)
            {
                bad = bad.logical_or(input.isnan().logical_or(input.isposinf()));
            }
        }

        if (!TorchHostReads.Item<bool>(bad.any()))
        {
            return;
        }

        var rowHasBad = bad.any(1).to_type(ScalarType.Int32);
        int row = (int)TorchHostReads.Item<long>(rowHasBad.argmax());
        int token = (int)TorchHostReads.Item<long>(bad.select(0, row).to_type(ScalarType.Int32).argmax());
        foreach (var input in inputs)
        {
            if (input is not null)
            {
                float inputValue = TorchHostReads.Item<float>(input.select(0, row).select(0, token));
                if (float.IsNaN(inputValue) || float.IsPositiveInfinity(inputValue))
                {
                    ThrowHelper.ThrowInvalidLogits(row, token, inputValue, "input");
                }
            }
        }

        ThrowHelper.ThrowInvalidLogits(row, token, TorchHostReads.Item<float>(result.select(0, row).select(0, token)), stage);
    }

    /// <summary>Finds the first NaN or <c>+∞</c> token of a row (cold path) and throws.</summary>
    [DoesNotReturn]
    private static void ThrowInvalidInRow(Tensor x, int row, string stage)
    {
        int token;
        float value;
        using (var scope = NewDisposeScope())
        {
            var values = x.select(0, row);
            var invalid = values.isnan().logical_or(values.isposinf()).to_type(ScalarType.Int32);

            // argmax returns the first maximal index, i.e. the lowest invalid token.
            token = (int)TorchHostReads.Item<long>(invalid.argmax());
            value = TorchHostReads.Item<float>(values.select(0, token));
        }

        ThrowHelper.ThrowInvalidLogits(row, token, value, stage);
    }

    /// <summary>A <c>[rows, 1]</c> column tensor on <paramref name="device"/> (created in the caller's scope).</summary>
    private static Tensor Column(double[] values, Device device) =>
        tensor(values, new long[] { values.Length, 1 }, ScalarType.Float64, device);

    /// <summary>A <c>[rows, 1]</c> column tensor on <paramref name="device"/> (created in the caller's scope).</summary>
    private static Tensor Column(float[] values, Device device) =>
        tensor(values, new long[] { values.Length, 1 }, ScalarType.Float32, device);

    /// <summary>A <c>[rows, n]</c> index tensor on <paramref name="device"/> (created in the caller's scope).</summary>
    private static Tensor Indices(long[] values, int rows, Device device) =>
        tensor(values, new long[] { rows, values.Length / rows }, ScalarType.Int64, device);
}
