
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>One sorted <c>topk</c>; <c>-∞</c> entries are values like any other.</remarks>
    public void LargestValues(LogitBatch x, int count, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        if (count < 1 || count > input.Vocab)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, $"must be in [1, {input.Vocab}]");
        }

        if (destination.Length != (long)input.Rows * count)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but Rows * count = {(long)input.Rows * count} are required.");
        }

        CheckInput(input, emptyStage: null);

        double[] read;
        using (var scope = NewDisposeScope())
        {
            var (values, _) = input.Values.topk(count, 1, largest: true, sorted: true);
            read = input.Read(values);
        }

        for (int i = 0; i < read.Length; i++)
        {
            destination[i] = (float)read[i];
        }
    }
}
