namespace Logits.Distillation;

/// <summary>The architecture of Dual-Head KD's auxiliary head (docs/algorithms/paper-methods.md#architecture; Dual-Head KD, arXiv 2411.08937).</summary>
public enum AuxiliaryHeadKind
{
    /// <summary><c>Linear(d → C)</c> (default; the official default flag).</summary>
    Linear = 0,

    /// <summary><c>Linear(d → H) → Dropout(p) → BatchNorm1d(H) → ReLU → Linear(H → C)</c> (the official quick start for heterogeneous pairs).</summary>
    NonLinear = 1,
}
