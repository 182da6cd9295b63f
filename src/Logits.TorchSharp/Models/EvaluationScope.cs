
namespace Logits.TorchSharp.Models;

/// <summary>
/// Runs a module for inference: switches it to evaluation mode and turns gradients off until disposed, then restores the
/// module's own training flag (a trainer's <c>Evaluate</c> or a language model's logits call leaves the module as it was).
/// </summary>
internal readonly struct EvaluationScope : IDisposable
{
    private readonly nn.Module _module;
    private readonly bool _training;
    private readonly IDisposable _noGrad;

    /// <summary>Switches <paramref name="module"/> to evaluation mode without gradients.</summary>
    public EvaluationScope(nn.Module module)
    {
        _module = module;
        _training = module.training;
        module.eval();
        _noGrad = no_grad();
    }

    /// <summary>Turns gradients back on and restores the module's training flag.</summary>
    public void Dispose()
    {
        _noGrad.Dispose();
        _module.train(_training);
    }
}
