
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>torch.argmax</c> returns the first maximal index, and compares <c>-0</c> and <c>+0</c> as equal, so
    /// ties go to the lowest index. NaN (which argmax would pick) and empty rows are rejected first. Inside a pipeline
    /// call whose entry check the batch trusts, the tokens and the values at them cross to the host in one read (an
    /// empty row is one whose chosen value is <c>-∞</c>), together with the batch's deferred checks.
    /// </remarks>
    public void ArgMax(LogitBatch x, Span<int> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        bool checkOnDevice = input.EntriesChecked && !input.TryGetMaxima(out _);
        if (!checkOnDevice)
        {
            CheckedMaxima(input, "argmax");
        }

        double[] read;
        using (var scope = NewDisposeScope())
        {
            var tokens = input.Values.argmax(1, true);
            read = input.Read(checkOnDevice
                ? cat(new[] { tokens.to_type(ScalarType.Float64), input.Values.gather(1, tokens).to_type(ScalarType.Float64) }, 1)
                : tokens);
        }

        int stride = checkOnDevice ? 2 : 1;
        for (int row = 0; row < input.Rows; row++)
        {
            if (checkOnDevice && double.IsNegativeInfinity(read[(row * stride) + 1]))
            {
                ThrowHelper.ThrowNoViableToken(row, "argmax");
            }

            destination[row] = (int)read[row * stride];
        }
    }
}
