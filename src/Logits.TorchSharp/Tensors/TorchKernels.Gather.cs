
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Padding ids (negative) read column 0 on the device and are replaced by 0 on the host. Gather is a plain
    /// read: it does not check the logits for NaN or <c>+∞</c>.
    /// </remarks>
    public void Gather(LogitBatch x, ReadOnlySpan<int> tokenIds, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireIdLayout(tokenIds.Length, input.Rows, nameof(tokenIds));
        if (destination.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {tokenIds.Length} (one per id) are required.");
        }

        if (tokenIds.IsEmpty)
        {
            return;
        }

        int perRow = tokenIds.Length / input.Rows;
        var columns = new long[tokenIds.Length];
        for (int i = 0; i < tokenIds.Length; i++)
        {
            int id = tokenIds[i];
            RequireIdBelowVocab(id, input.Vocab, i, perRow);
            columns[i] = Math.Max(id, 0);
        }

        double[] read;
        using (var scope = NewDisposeScope())
        {
            read = input.Read(input.Values.gather(1, Indices(columns, input.Rows, input.Device)));
        }

        for (int i = 0; i < tokenIds.Length; i++)
        {
            destination[i] = tokenIds[i] < 0 ? 0f : (float)read[i];
        }
    }

    /// <summary>Throws unless a row-major id list holds the same whole number of ids for every row.</summary>
    private static void RequireIdLayout(int length, int rows, string paramName)
    {
        if (length % rows != 0)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {length} ids, which is not a multiple of the {rows} rows.");
        }
    }

    /// <summary>Throws naming <c>tokenIds</c>, the row and the position when an id is at least <paramref name="vocab"/>.</summary>
    internal static void RequireIdBelowVocab(int id, int vocab, int index, int perRow)
    {
        if (id >= vocab)
        {
            ThrowHelper.ThrowArgumentOutOfRange("tokenIds", id, $"must be below the vocabulary size {vocab} (row {index / perRow}, position {index % perRow})");
        }
    }
}
