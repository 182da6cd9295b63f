using Logits.Distillation;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Distillation;

/// <summary>
/// A Dual-Head KD student: a caller-supplied backbone with a main head (trained by cross-entropy) and an auxiliary head
/// (trained by the logit-level loss) on the shared feature (docs/algorithms/paper-methods.md#architecture).
/// </summary>
/// <remarks>
/// <para>Source: Yang et al., <i>Dual-Head Knowledge Distillation: Enhancing Logits Utilization with an Auxiliary Head</i>,
/// arXiv 2411.08937 (KDD 2025); official code <c>penghui-yang/DHKD</c>. Splitting the classifier avoids the gradient
/// conflict the paper finds between CE and a logit-level loss on one linear head.</para>
/// <para>Main head: <c>Linear(d → C)</c>. Auxiliary head: <c>Linear(d → C)</c> (default), or
/// <c>Linear(d → H) → Dropout(p) → BatchNorm1d(H) → ReLU → Linear(H → C)</c>.</para>
/// <para>Training-mode <see cref="forward"/> returns both logits; evaluation mode returns the main logits only (the
/// auxiliary head is not run). <see cref="Predict"/> always uses the backbone and main head only, and
/// <see cref="ExportInferenceModel"/> returns a module without the auxiliary head for deployment. Parameters are
/// registered in the order backbone, main head, auxiliary head. Build with <see cref="Create(Module{Tensor, Tensor}, long, long, DualHeadKdOptions?)"/>.</para>
/// </remarks>
public sealed class DualHeadClassifier : Module<Tensor, DualHeadOutput>
{
    private readonly Module<Tensor, Tensor> _backbone;
    private readonly Module<Tensor, Tensor> _mainHead;
    private readonly Module<Tensor, Tensor> _auxiliaryHead;

    private DualHeadClassifier(Module<Tensor, Tensor> backbone, Module<Tensor, Tensor> mainHead, Module<Tensor, Tensor> auxiliaryHead)
        : base(nameof(DualHeadClassifier))
    {
        _backbone = backbone;
        _mainHead = mainHead;
        _auxiliaryHead = auxiliaryHead;
        register_module("backbone", backbone);
        register_module("main_head", mainHead);
        register_module("auxiliary_head", auxiliaryHead);
    }

    /// <summary>The caller-supplied backbone, mapping an input to the feature <c>f ∈ R^d</c>.</summary>
    public Module<Tensor, Tensor> Backbone => _backbone;

    /// <summary>The main head, <c>Linear(d → C)</c>.</summary>
    public Module<Tensor, Tensor> MainHead => _mainHead;

    /// <summary>The auxiliary head (training only).</summary>
    public Module<Tensor, Tensor> AuxiliaryHead => _auxiliaryHead;

    /// <summary>Builds a dual-head classifier on a backbone.</summary>
    /// <param name="backbone">Maps an input batch to features <c>[N, d]</c>; the classifier registers it as a submodule.</param>
    /// <param name="featureDimension"><c>d</c>, at least 1.</param>
    /// <param name="classes"><c>C</c>, at least 1.</param>
    /// <param name="options">Supplies <see cref="DualHeadKdOptions.AuxiliaryHead"/>, the hidden width and dropout;
    /// <see langword="null"/> means the defaults (linear auxiliary head).</param>
    /// <returns>A new module in training mode.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    public static DualHeadClassifier Create(Module<Tensor, Tensor> backbone, long featureDimension, long classes, DualHeadKdOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        Require.AtLeast(featureDimension, 1, nameof(featureDimension));
        Require.AtLeast(classes, 1, nameof(classes));

        options ??= DualHeadKdOptions.Cifar100;
        Module<Tensor, Tensor> auxiliary = options.AuxiliaryHead == AuxiliaryHeadKind.NonLinear
            ? Sequential(
                ("fc1", Linear(featureDimension, options.NonLinearHiddenWidth)),
                ("dropout", Dropout(options.NonLinearDropout)),
                ("bn", BatchNorm1d(options.NonLinearHiddenWidth)),
                ("relu", ReLU()),
                ("fc2", Linear(options.NonLinearHiddenWidth, classes)))
            : Linear(featureDimension, classes);
        var classifier = new DualHeadClassifier(backbone, Linear(featureDimension, classes), auxiliary);
        classifier.train();
        return classifier;
    }

    /// <summary>Training mode: <c>(z⁰, z¹)</c> from the shared feature. Evaluation mode: <c>z⁰</c> only.</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>The logits.</returns>
    public override DualHeadOutput forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var feature = _backbone.call(input);
        var main = _mainHead.call(feature);
        if (!training)
        {
            return new DualHeadOutput(main.MoveToOuterDisposeScope(), null);
        }

        var auxiliary = _auxiliaryHead.call(feature);
        return new DualHeadOutput(main.MoveToOuterDisposeScope(), auxiliary.MoveToOuterDisposeScope());
    }

    /// <summary>Inference logits through the backbone and the main head only, whatever the mode.</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>The main-head logits <c>z⁰</c>.</returns>
    public Tensor Predict(Tensor input)
    {
        using var scope = NewDisposeScope();
        var feature = _backbone.call(input);
        return _mainHead.call(feature).MoveToOuterDisposeScope();
    }

    /// <summary>A deployment module <c>backbone → main head</c> without the auxiliary head.</summary>
    /// <returns>A module that shares (does not copy) the backbone and main-head parameters; dispose it before, or
    /// together with, this classifier.</returns>
    public Module<Tensor, Tensor> ExportInferenceModel() =>
        Sequential(("backbone", _backbone), ("main_head", _mainHead));
}
