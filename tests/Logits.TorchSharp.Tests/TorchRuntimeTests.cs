using FluentAssertions;
using Logits.TorchSharp.Tensors;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests;

/// <summary>Proves that libtorch loads in the test process on this host (see the platform note).</summary>
public sealed class TorchRuntimeTests
{
    [Fact]
    public void Softmax_runs_in_process()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 88.8f, 87.8f });
        var p = softmax(x, 0).data<float>().ToArray();
        p[0].Should().BeApproximately(0.731059f, 1e-6f);
        p[1].Should().BeApproximately(0.268941f, 1e-6f);
    }

    [Fact]
    public void One_Adam_step_reduces_a_quadratic_loss()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(7);
        var w = randn(4, 3).requires_grad_(true);
        var target = zeros(4, 3);
        var parameter = new Parameter(w.detach().clone());
        using var optimizer = new HeldScalarAdamW(new[] { parameter }, 0.1);
        var before = (parameter - target).Squared().mean();
        double lossBefore = before.item<float>();
        optimizer.ZeroGrad();
        before.backward();
        optimizer.Step();
        double lossAfter = (parameter - target).Squared().mean().item<float>();
        lossAfter.Should().BeLessThan(lossBefore);
        parameter.grad.Should().NotBeNull();
    }
}
