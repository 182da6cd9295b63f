
namespace Logits.TorchSharp.Distillation;

/// <summary>The output of a <see cref="DualHeadClassifier"/> forward pass (Dual-Head KD, arXiv 2411.08937): main logits, and auxiliary logits in training mode.</summary>
/// <remarks>The tensors belong to the caller's dispose scope, like any module output.</remarks>
public sealed class DualHeadOutput
{
    internal DualHeadOutput(Tensor main, Tensor? auxiliary)
    {
        Main = main;
        Auxiliary = auxiliary;
    }

    /// <summary>Main-head logits <c>z⁰</c>, <c>[N, C]</c>.</summary>
    public Tensor Main { get; }

    /// <summary>Auxiliary-head logits <c>z¹</c> in training mode; <see langword="null"/> in evaluation mode.</summary>
    public Tensor? Auxiliary { get; }

    /// <summary>Deconstructs into the two logits.</summary>
    /// <param name="main">The main-head logits.</param>
    /// <param name="auxiliary">The auxiliary-head logits, or <see langword="null"/> in evaluation mode.</param>
    public void Deconstruct(out Tensor main, out Tensor? auxiliary)
    {
        main = Main;
        auxiliary = Auxiliary;
    }
}
