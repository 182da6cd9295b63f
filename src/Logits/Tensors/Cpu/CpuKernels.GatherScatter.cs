
namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void Gather(LogitBatch x, ReadOnlySpan<int> tokenIds, Span<float> destination)
    {
        var source = AsCpu(x, nameof(x));
        int perRow = IdsPerRow(source, tokenIds.Length, nameof(tokenIds));
        if (destination.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but tokenIds has {tokenIds.Length}.");
        }

        ValidateIds(tokenIds, perRow, source.Vocab, nameof(tokenIds));
        var data = source.Storage.Span;
        for (int r = 0; r < source.Rows; r++)
        {
            var row = data.Slice(r * source.Vocab, source.Vocab);
            for (int j = 0; j < perRow; j++)
            {
                int id = tokenIds[(r * perRow) + j];
                destination[(r * perRow) + j] = id < 0 ? 0f : row[id];
            }
        }
    }

    public void ScatterAdd(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> values)
    {
        var target = AsCpu(destination, nameof(destination));
        int perRow = IdsPerRow(target, tokenIds.Length, nameof(tokenIds));
        if (values.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(values), $"has {values.Length} elements but tokenIds has {tokenIds.Length}.");
        }

        ValidateIds(tokenIds, perRow, target.Vocab, nameof(tokenIds));
        for (int i = 0; i < values.Length; i++)
        {
            if (tokenIds[i] >= 0 && RowMath.IsInvalid(values[i]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(values), values[i], $"must be finite or -infinity (row {i / perRow}, position {i % perRow})");
            }
        }

        var data = target.Storage.Span;
        var support = target.Support;
        for (int r = 0; r < target.Rows; r++)
        {
            // -inf stays -inf: the support (a superset of the finite entries) still holds; the maximum may not.
            support?.ForgetMaximum(r);
            var row = data.Slice(r * target.Vocab, target.Vocab);
            for (int j = 0; j < perRow; j++)
            {
                int id = tokenIds[(r * perRow) + j];
                if (id < 0)
                {
                    continue;
                }

                float current = row[id];
                if (RowMath.IsInvalid(current))
                {
                    ThrowHelper.ThrowInvalidLogits(r, id, current, "input");
                }

                // -inf + finite = -inf: a removed token stays removed.
                float result = current + values[(r * perRow) + j];
                if (RowMath.IsInvalid(result))
                {
                    ThrowHelper.ThrowInvalidLogits(r, id, result, "scatter-add");
                }

                row[id] = result;
            }
        }
    }

    public void Scatter(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> values)
    {
        var target = AsCpu(destination, nameof(destination));
        int perRow = IdsPerRow(target, tokenIds.Length, nameof(tokenIds));
        if (values.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(values), $"has {values.Length} elements but tokenIds has {tokenIds.Length}.");
        }

        ValidateIds(tokenIds, perRow, target.Vocab, nameof(tokenIds));
        for (int i = 0; i < values.Length; i++)
        {
            if (tokenIds[i] >= 0 && RowMath.IsInvalid(values[i]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(values), values[i], $"must be finite or -infinity (row {i / perRow}, position {i % perRow})");
            }
        }

        var data = target.Storage.Span;
        var support = target.Support;
        for (int i = 0; i < tokenIds.Length; i++)
        {
            if (tokenIds[i] >= 0)
            {
                int row = i / perRow;
                data[(row * target.Vocab) + tokenIds[i]] = values[i];

                // A finite value may revive a token outside the support; -inf keeps the support valid.
                if (support is not null)
                {
                    if (float.IsNegativeInfinity(values[i]))
                    {
                        support.ForgetMaximum(row);
                    }
                    else
                    {
                        support.Forget(row);
                    }
                }
            }
        }
    }

    private static int IdsPerRow(LogitBatch batch, int idCount, string paramName)
    {
        if (idCount % batch.Rows != 0)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {idCount} ids, which is not a multiple of the batch's {batch.Rows} rows.");
        }

        return idCount / batch.Rows;
    }

    private static void ValidateIds(ReadOnlySpan<int> tokenIds, int perRow, int vocab, string paramName)
    {
        for (int i = 0; i < tokenIds.Length; i++)
        {
            if (tokenIds[i] >= vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(paramName, tokenIds[i], $"must be below the vocabulary size {vocab} (row {i / perRow}, position {i % perRow}; negative ids are padding)");
            }
        }
    }
}
