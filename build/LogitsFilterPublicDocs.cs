// Build-time task (compiled by MSBuild's RoslynCodeTaskFactory, see Directory.Build.targets): keeps only the
// documentation of the public surface in a package's XML documentation file.
//
// Documentation IDs follow the C# specification's "Processing the documentation file" annex (ECMA-334 D.4.2):
// T:/M:/P:/F:/E: prefixes, nested types joined by '.', generic arity as `n on types and ``n on methods, type
// parameters as `i (of the type) or ``i (of the method), constructed types as Name{Arg,...}, arrays as [] or
// [lower:size,...], by-reference parameters as @, pointers as *, and conversion operators suffixed by ~Result.
//
// RoslynCodeTaskFactory compiles against netstandard 2.0 only, so System.Reflection.MetadataLoadContext (which the
// SDK ships next to MSBuild) is created through reflection; everything after that is netstandard's Type API.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Xml.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class LogitsFilterPublicDocs : Task
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Required]
    public string AssemblyPath { get; set; } = "";

    [Required]
    public string DocumentationPath { get; set; } = "";

    [Required]
    public ITaskItem[] References { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string MetadataLoadContextPath { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(DocumentationPath))
        {
            return true;
        }

        var paths = new List<string> { AssemblyPath };
        paths.AddRange(References.Select(r => r.ItemSpec).Where(File.Exists));
        var visible = new HashSet<string>(StringComparer.Ordinal);
        var library = Assembly.LoadFrom(MetadataLoadContextPath);
        var contextType = library.GetType("System.Reflection.MetadataLoadContext", throwOnError: true)!;
        var resolverType = library.GetType("System.Reflection.PathAssemblyResolver", throwOnError: true)!;
        object resolver = Activator.CreateInstance(resolverType, new object[] { paths })!;
        var context = (IDisposable)Activator.CreateInstance(contextType, new object?[] { resolver, null })!;
        try
        {
            var load = contextType.GetMethod("LoadFromAssemblyPath", new[] { typeof(string) })!;
            var assembly = (Assembly)load.Invoke(context, new object[] { AssemblyPath })!;
            foreach (var type in assembly.GetTypes().Where(IsVisible))
            {
                AddType(type, visible);
            }
        }
        finally
        {
            context.Dispose();
        }

        var document = XDocument.Load(DocumentationPath, LoadOptions.PreserveWhitespace);
        var members = document.Root?.Element("members");
        if (members is null)
        {
            return true;
        }

        var documented = new HashSet<string>(StringComparer.Ordinal);
        int removed = 0;
        foreach (var member in members.Elements("member").ToList())
        {
            string name = (string?)member.Attribute("name") ?? "";
            documented.Add(name);
            if (!visible.Contains(name))
            {
                // Drop the entry and the whitespace before it.
                if (member.PreviousNode is XText text)
                {
                    text.Remove();
                }

                member.Remove();
                removed++;
            }
        }

        // Implicit parameterless constructors have no source to document; every other visible member must be there.
        var missing = visible
            .Where(id => !documented.Contains(id) && !id.EndsWith(".#ctor", StringComparison.Ordinal))
            .OrderBy(id => id, StringComparer.Ordinal)
            .ToList();
        if (missing.Count > 0)
        {
            Log.LogError(
                "LogitsFilterPublicDocs: {0} visible members of {1} have no entry in {2}; their documentation IDs are computed wrongly: {3}",
                missing.Count, Path.GetFileName(AssemblyPath), Path.GetFileName(DocumentationPath), string.Join(", ", missing.Take(10)));
            return false;
        }

        document.Save(DocumentationPath, SaveOptions.DisableFormatting);
        Log.LogMessage(
            MessageImportance.Normal,
            "LogitsFilterPublicDocs: {0} kept {1} public entries, removed {2} internal ones.",
            Path.GetFileName(DocumentationPath), visible.Count, removed);
        return !Log.HasLoggedErrors;
    }

    private static bool IsVisible(Type type)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            bool ok = t.IsNested ? t.IsNestedPublic || t.IsNestedFamily || t.IsNestedFamORAssem : t.IsPublic;
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static bool IsVisible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    private static bool IsCompilerGenerated(MemberInfo member) =>
        member.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.CompilerGeneratedAttribute");

    private static void AddType(Type type, HashSet<string> ids)
    {
        string typeId = TypeName(type);
        ids.Add("T:" + typeId);
        bool isDelegate = type.BaseType?.FullName == "System.MulticastDelegate";
        if (isDelegate)
        {
            return;
        }

        foreach (var field in type.GetFields(Declared))
        {
            if (IsVisible(field) && !field.IsSpecialName && !IsCompilerGenerated(field))
            {
                ids.Add("F:" + typeId + "." + field.Name);
            }
        }

        foreach (var constructor in type.GetConstructors(Declared))
        {
            if (IsVisible(constructor) && !IsCompilerGenerated(constructor) && !(type.IsValueType && constructor.GetParameters().Length == 0))
            {
                string name = constructor.IsStatic ? "#cctor" : "#ctor";
                ids.Add("M:" + typeId + "." + name + Parameters(constructor.GetParameters()));
            }
        }

        foreach (var method in type.GetMethods(Declared))
        {
            bool isOperator = method.IsSpecialName && method.Name.StartsWith("op_", StringComparison.Ordinal);
            if (!IsVisible(method) || (method.IsSpecialName && !isOperator) || IsCompilerGenerated(method))
            {
                continue;
            }

            var id = new StringBuilder("M:").Append(typeId).Append('.').Append(method.Name.Replace('.', '#'));
            if (method.IsGenericMethodDefinition)
            {
                id.Append("``").Append(method.GetGenericArguments().Length);
            }

            id.Append(Parameters(method.GetParameters()));
            if (method.Name is "op_Implicit" or "op_Explicit")
            {
                id.Append('~').Append(TypeReference(method.ReturnType));
            }

            ids.Add(id.ToString());
        }

        foreach (var property in type.GetProperties(Declared))
        {
            var accessors = property.GetAccessors(nonPublic: true);
            if (accessors.Any(IsVisible) && !IsCompilerGenerated(property))
            {
                ids.Add("P:" + typeId + "." + property.Name.Replace('.', '#') + Parameters(property.GetIndexParameters()));
            }
        }

        foreach (var @event in type.GetEvents(Declared))
        {
            var add = @event.GetAddMethod(nonPublic: true);
            if (add is not null && IsVisible(add))
            {
                ids.Add("E:" + typeId + "." + @event.Name);
            }
        }
    }

    private static string Parameters(ParameterInfo[] parameters) =>
        parameters.Length == 0 ? "" : "(" + string.Join(",", parameters.Select(p => TypeReference(p.ParameterType))) + ")";

    /// <summary>The ID of a type definition: namespace, enclosing types, name with `n arity.</summary>
    private static string TypeName(Type type)
    {
        if (type.IsNested)
        {
            return TypeName(type.DeclaringType!) + "." + type.Name;
        }

        return string.IsNullOrEmpty(type.Namespace) ? type.Name : type.Namespace + "." + type.Name;
    }

    /// <summary>The ID of a type used in a signature.</summary>
    private static string TypeReference(Type type)
    {
        if (type.IsByRef)
        {
            return TypeReference(type.GetElementType()!) + "@";
        }

        if (type.IsPointer)
        {
            return TypeReference(type.GetElementType()!) + "*";
        }

        if (type.IsArray)
        {
            int rank = type.GetArrayRank();
            bool vector = rank == 1 && type.Name.EndsWith("[]", StringComparison.Ordinal);
            string suffix = vector ? "[]" : "[" + string.Join(",", Enumerable.Repeat("0:", rank)) + "]";
            return TypeReference(type.GetElementType()!) + suffix;
        }

        if (type.IsGenericParameter)
        {
            return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition;
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            // Each level of nesting carries its own share of the arguments.
            var arguments = type.GetGenericArguments();
            return Constructed(type.GetGenericTypeDefinition(), arguments, out _);
        }

        return TypeName(type);
    }

    private static string Constructed(Type definition, Type[] arguments, out int used)
    {
        string prefix;
        int outer = 0;
        if (definition.IsNested)
        {
            prefix = Constructed(definition.DeclaringType!, arguments, out outer) + ".";
        }
        else
        {
            prefix = string.IsNullOrEmpty(definition.Namespace) ? "" : definition.Namespace + ".";
        }

        string name = definition.Name;
        int tick = name.IndexOf('`');
        int own = 0;
        if (tick >= 0)
        {
            own = int.Parse(name.Substring(tick + 1), System.Globalization.CultureInfo.InvariantCulture);
            name = name.Substring(0, tick);
        }

        used = outer + own;
        if (own == 0)
        {
            return prefix + name;
        }

        var mine = arguments.Skip(outer).Take(own).Select(TypeReference);
        return prefix + name + "{" + string.Join(",", mine) + "}";
    }
}
