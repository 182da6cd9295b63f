namespace Logits.Optimization;

/// <summary>How SSO minimises each surrogate over the parameters.</summary>
public enum SsoInnerSolverKind
{
    /// <summary>m steps of gradient descent with a fixed step α.</summary>
    GradientDescent = 0,

    /// <summary>m steps of gradient descent with an Armijo backtracking line search.</summary>
    Armijo = 1,

    /// <summary>The exact minimiser (linear target maps only): a minimum-norm least-squares solve.</summary>
    Exact = 2,
}
