using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Logits.TorchSharp.Tests.Analysis;

/// <summary>One place where a TorchSharp <c>Scalar</c> may be finalized while libtorch still reads it.</summary>
/// <param name="File">The source file, relative to the repository root.</param>
/// <param name="Line">The one-based line.</param>
/// <param name="Code">The expression, as written.</param>
/// <param name="Reason">Why the Scalar is not held across the native call.</param>
internal sealed record ScalarHazard(string File, int Line, string Code, string Reason)
{
    public override string ToString() => $"{File}:{Line}: {Code}  -- {Reason}";
}

/// <summary>
/// Finds, with Roslyn's semantic model, every place where code hands libtorch a <c>TorchSharp.Scalar</c> that nothing
/// keeps referenced across the native call.
/// </summary>
/// <remarks>
/// <para>
/// TorchSharp's <c>Scalar</c> owns a native <c>c10::Scalar</c> and frees it from its finalizer. A Scalar made by an
/// implicit conversion (<c>tensor.masked_fill(mask, double.NegativeInfinity)</c>) or inside a TorchSharp member
/// (<c>tensor / Math.Sqrt(d)</c> calls <c>div(Scalar)</c> with a Scalar made from the double; <c>a + b</c> calls
/// <c>add(b, alpha: 1)</c>) is unreferenced as soon as its handle has been read, so a collection on another thread
/// can free it while libtorch is still reading it (dotnet/TorchSharp#1434). A CI run failed that way inside
/// <c>at::native::div</c> with "Unknown scalar type".
/// </para>
/// <para>The rules, each a hazard where it matches:</para>
/// <list type="number">
/// <item>A user-defined conversion of a value to <c>Scalar</c> (implicit or a cast).</item>
/// <item>A call that returns a new <c>Scalar</c> (<c>ToScalar()</c>) whose result is not the resource of a
/// <c>using</c> declaration or statement, nor stored in a field: a plain local is dead after its last use, so only a
/// <c>using</c> (whose <c>Dispose</c> runs after the call) keeps it alive.</item>
/// <item>A call of a TorchSharp member listed in <c>TorchSharpScalarTemporaries.tsv</c>: members that make such a
/// Scalar themselves (the operators taking a number, <c>add(Tensor)</c>, <c>square()</c>, the optimizers'
/// <c>step</c>, ...). Virtual calls are resolved against the receiver's static type.</item>
/// </list>
/// </remarks>
internal static class ScalarLifetimeAnalyzer
{
    /// <summary>Analyzes every syntax tree of <paramref name="compilation"/>.</summary>
    public static List<ScalarHazard> Analyze(Compilation compilation, IReadOnlyDictionary<string, string> unsafeMembers, string root)
    {
        var scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar")
            ?? throw new InvalidOperationException("The compilation does not reference TorchSharp.");
        var hazards = new List<ScalarHazard>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            var roots = new HashSet<IOperation>();
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                // Every member body, initializer and attribute argument is one operation tree: visit each tree once.
                var top = model.GetOperation(node);
                while (top?.Parent is not null)
                {
                    top = top.Parent;
                }

                if (top is null || !roots.Add(top))
                {
                    continue;
                }

                foreach (var op in top.DescendantsAndSelf())
                {
                    var reason = Check(op, scalar, unsafeMembers);
                    if (reason is not null)
                    {
                        var span = op.Syntax.GetLocation().GetLineSpan();
                        var file = Path.GetRelativePath(root, tree.FilePath).Replace('\\', '/');
                        hazards.Add(new ScalarHazard(file, span.StartLinePosition.Line + 1, Shorten(op.Syntax.ToString()), reason));
                    }
                }
            }
        }

        return hazards.Distinct().ToList();
    }

    private static string? Check(IOperation op, INamedTypeSymbol scalar, IReadOnlyDictionary<string, string> unsafeMembers)
    {
        switch (op)
        {
            case IConversionOperation { OperatorMethod: not null } conversion
                when IsScalar(conversion.Type, scalar) && !IsScalar(conversion.Operand.Type, scalar):
                return $"converts {conversion.Operand.Type?.ToDisplayString() ?? "a value"} to Scalar {(conversion.IsImplicit ? "implicitly" : "by a cast")}; hold it instead: `using var s = value.ToScalar();`";
            case IInvocationOperation invocation:
                if (IsScalar(invocation.Type, scalar) && !IsHeld(invocation))
                {
                    return "a new Scalar that no `using` keeps referenced across the call it is passed to";
                }

                return Listed(Resolve(invocation.TargetMethod, invocation.Instance), unsafeMembers);
            case IBinaryOperation { OperatorMethod: { } method }:
                return Listed(method, unsafeMembers);
            case IUnaryOperation { OperatorMethod: { } method }:
                return Listed(method, unsafeMembers);
            case ICompoundAssignmentOperation { OperatorMethod: { } method }:
                return Listed(method, unsafeMembers);
            case IObjectCreationOperation { Constructor: { } constructor }:
                return Listed(constructor, unsafeMembers);
            case IPropertyReferenceOperation { Property.GetMethod: { } getter } property:
                return Listed(Resolve(getter, property.Instance), unsafeMembers);
            default:
                return null;
        }
    }

    private static bool IsScalar(ITypeSymbol? type, INamedTypeSymbol scalar) => SymbolEqualityComparer.Default.Equals(type, scalar);

    /// <summary>A virtual call binds to the least derived declaration; the override that runs is the receiver type's.</summary>
    private static IMethodSymbol Resolve(IMethodSymbol method, IOperation? instance)
    {
        if (instance?.Type is not INamedTypeSymbol receiver || !(method.IsVirtual || method.IsAbstract || method.IsOverride))
        {
            return method;
        }

        for (var type = receiver; type is not null; type = type.BaseType)
        {
            foreach (var candidate in type.GetMembers(method.Name).OfType<IMethodSymbol>())
            {
                for (var overridden = candidate; overridden is not null; overridden = overridden.OverriddenMethod)
                {
                    if (SymbolEqualityComparer.Default.Equals(overridden.OriginalDefinition, method.OriginalDefinition))
                    {
                        return candidate;
                    }
                }
            }
        }

        return method;
    }

    private static string? Listed(IMethodSymbol method, IReadOnlyDictionary<string, string> unsafeMembers)
    {
        var id = method.OriginalDefinition.GetDocumentationCommentId();
        return id is not null && unsafeMembers.TryGetValue(id, out var why)
            ? $"{method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)} makes a Scalar that nothing holds ({why})"
            : null;
    }

    /// <summary>True when the new Scalar is a <c>using</c> resource or goes into a field or out of a return.</summary>
    private static bool IsHeld(IOperation value)
    {
        var parent = value.Parent;
        while (parent is IParenthesizedOperation or IConversionOperation { OperatorMethod: null })
        {
            parent = parent.Parent;
        }

        switch (parent)
        {
            case IReturnOperation:
                return true; // the caller's call returns a Scalar and is checked in turn
            case ISimpleAssignmentOperation { Target: IFieldReferenceOperation }:
                return true;
            case IFieldInitializerOperation:
                return true;
            case IUsingOperation:
                return true;
            case IVariableInitializerOperation initializer:
                for (IOperation? up = initializer.Parent; up is not null; up = up.Parent)
                {
                    switch (up)
                    {
                        case IUsingDeclarationOperation or IUsingOperation:
                            return true;
                        case IVariableDeclaratorOperation or IVariableDeclarationOperation or IVariableDeclarationGroupOperation:
                            continue;
                        default:
                            return false;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    private static string Shorten(string code)
    {
        var flat = string.Join(' ', code.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 120 ? flat : flat[..117] + "...";
    }
}
