using System;
using System.IO;
using System.Text;
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

    [Fact]
    public void EnsureLoaded_succeeds_where_the_build_fix_ran()
    {
        FluentActions.Invoking(TorchRuntime.EnsureLoaded).Should().NotThrow();
    }

    // Issue 14, first contact: TorchSharp reports a missing libtorch package when the real cause is the host's
    // libstdc++ lacking GLIBCXX_3.4.32; the explanation names the cause and the one-line fix for a ProjectReference.
    [Fact]
    public void A_load_failure_on_a_host_without_the_libstdcxx_version_is_explained_with_the_fix()
    {
        string message = TorchRuntime.Explain("doesn't contain a reference to libtorch-cpu-linux-x64", "/lib/x86_64-linux-gnu/libstdc++.so.6");
        message.Should().Contain("/lib/x86_64-linux-gnu/libstdc++.so.6 lacks the symbol version GLIBCXX_3.4.32")
            .And.Contain("PackageReference")
            .And.Contain("<Import Project=\"path/to/src/Logits.TorchSharp/build/Logits.TorchSharp.targets\" />")
            .And.EndWith("TorchSharp said: doesn't contain a reference to libtorch-cpu-linux-x64");

        TorchRuntime.Explain("some other failure", null).Should().Contain("TorchSharp-cpu").And.NotContain("GLIBCXX");
    }

    [Fact]
    public void The_libstdcxx_probe_reads_the_version_strings()
    {
        string path = Path.Combine(Path.GetTempPath(), "logits-libstdcxx-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes("\0GLIBCXX_3.4.30\0GLIBCXX_3.4.31\0"));
            TorchRuntime.ContainsAscii(path, "GLIBCXX_3.4.32").Should().BeFalse();
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes("\0GLIBCXX_3.4.31\0GLIBCXX_3.4.32\0"));
            TorchRuntime.ContainsAscii(path, "GLIBCXX_3.4.32").Should().BeTrue();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
