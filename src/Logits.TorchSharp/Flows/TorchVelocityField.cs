using Logits.Flows;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Flows;

/// <summary>
/// Adapts a torch module <c>(x [B, d], t [B]) → v [B, d]</c> to <see cref="IVelocityField"/>, so the library's samplers
/// run it on torch batches (no copy) or on CPU batches (copied to a float32 tensor and back).
/// </summary>
/// <remarks>Evaluations run under <c>no_grad</c> in a dispose scope: no tensors leak. The model's device must match
/// torch batches; CPU batches are moved to the device of the model's first parameter.</remarks>
public sealed class TorchVelocityField : IVelocityField
{
    private readonly Module<Tensor, Tensor, Tensor> _model;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">The velocity model.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public TorchVelocityField(Module<Tensor, Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <inheritdoc />
    public void Evaluate(LogitBatch x, double t, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(destination);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (x is TorchLogitBatch torchX && destination is TorchLogitBatch torchOut)
        {
            var time = TorchScalars.Filled(new long[] { x.Rows }, t, ScalarType.Float32, torchX.Device);
            torchOut.Tensor.copy_(_model.forward(torchX.Tensor, time));
            return;
        }

        var device = ModelDevice();
        var input = tensor(x.ToArray(), new long[] { x.Rows, x.Vocab }, ScalarType.Float32, device);
        var times = TorchScalars.Filled(new long[] { x.Rows }, t, ScalarType.Float32, device);
        var output = _model.forward(input, times).to(CPU).contiguous();
        destination.CopyFrom(output.data<float>().ToArray());
    }

    private Device ModelDevice()
    {
        foreach (var parameter in _model.parameters())
        {
            return parameter.device;
        }

        return CPU;
    }
}
