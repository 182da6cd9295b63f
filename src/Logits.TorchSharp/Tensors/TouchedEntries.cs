namespace Logits.TorchSharp.Tensors;

/// <summary>
/// The distinct (row, token) entries a sparse-edit kernel touches, from row-major ids with padding: for a repeated id
/// the last position wins, as on the CPU. Holds each entry's row, column and the position of its arguments.
/// </summary>
internal readonly struct TouchedEntries
{
    private TouchedEntries(long[] rows, long[] columns, int[] positions)
    {
        Rows = rows;
        Columns = columns;
        Positions = positions;
    }

    /// <summary>The row of each entry.</summary>
    public long[] Rows { get; }

    /// <summary>The token id of each entry.</summary>
    public long[] Columns { get; }

    /// <summary>Where each entry's arguments stand in the kernel's per-id spans (its last occurrence).</summary>
    public int[] Positions { get; }

    /// <summary>How many entries.</summary>
    public int Count => Rows.Length;

    /// <summary>Collects the entries of <paramref name="tokenIds"/> (<paramref name="perRow"/> per row; negative ids are padding).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <paramref name="vocab"/>.</exception>
    public static TouchedEntries Collect(ReadOnlySpan<int> tokenIds, int perRow, int vocab)
    {
        var last = new Dictionary<long, int>();
        for (int i = 0; i < tokenIds.Length; i++)
        {
            int id = tokenIds[i];
            if (id < 0)
            {
                continue;
            }

            TorchKernels.RequireIdBelowVocab(id, vocab, i, perRow);
            last[((long)(i / perRow) * vocab) + id] = i;
        }

        var rows = new long[last.Count];
        var columns = new long[last.Count];
        var positions = new int[last.Count];
        int j = 0;
        foreach (var (flat, position) in last)
        {
            rows[j] = flat / vocab;
            columns[j] = flat % vocab;
            positions[j] = position;
            j++;
        }

        return new TouchedEntries(rows, columns, positions);
    }

    /// <summary>The per-entry values of a per-id argument, as a float64 tensor on <paramref name="device"/>.</summary>
    public Tensor Select(ReadOnlySpan<double> perId, Device device)
    {
        var values = new double[Count];
        for (int j = 0; j < values.Length; j++)
        {
            values[j] = perId[Positions[j]];
        }

        return tensor(values, new long[] { Count }, ScalarType.Float64, device);
    }

    /// <summary>
    /// The (rows, columns) index tensors of the entries on <paramref name="device"/> (for <c>index_put_</c>) and the
    /// entries' current values in <paramref name="values"/>.
    /// </summary>
    public (Tensor[] Indices, Tensor Before) Gather(Tensor values, Device device)
    {
        var indices = new[]
        {
            tensor(Rows, new long[] { Count }, ScalarType.Int64, device),
            tensor(Columns, new long[] { Count }, ScalarType.Int64, device),
        };
        return (indices, values.index(indices));
    }
}
