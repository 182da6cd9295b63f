
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks><c>torch.logsumexp</c> subtracts the row maximum: <c>m + ln Σ exp(z - m)</c>.</remarks>
    public void LogSumExp(LogitBatch x, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        CheckedMaxima(input, "logsumexp");

        double[] values;
        using (var scope = NewDisposeScope())
        {
            values = input.Read(input.Values.logsumexp(1));
        }

        for (int row = 0; row < values.Length; row++)
        {
            destination[row] = (float)values[row];
        }
    }
}
