using System.Runtime.InteropServices;
using System.Text;

namespace Logits.TorchSharp;

/// <summary>Loads libtorch once and, when it cannot be loaded, says why and what fixes it.</summary>
/// <remarks>
/// <para>The batch constructors and the model factories of this package call <see cref="EnsureLoaded"/> before their
/// first torch call; an application can call it first to fail early with the same explanation.</para>
/// <para>The common failure on Linux: TorchSharp 0.107's <c>libLibTorchSharp.so</c> asks for the symbol version
/// <c>GLIBCXX_3.4.32</c> (GCC 13's libstdc++; only for a no-op marker). On Debian 12 or Ubuntu 22.04 the loader refuses
/// the library, and TorchSharp reports the misleading "doesn't contain a reference to libtorch-cpu-linux-x64". When
/// the host's <c>libstdc++.so.6</c> lacks that version, the exception names it and the fix: the
/// <c>Logits.TorchSharp.targets</c> build step, which a <c>PackageReference</c> to <c>Logits.TorchSharp</c> applies by
/// itself, and which a <c>ProjectReference</c> needs imported by one line in the application's project file.</para>
/// </remarks>
public static class TorchRuntime
{
    /// <summary>The libstdc++ symbol version TorchSharp 0.107's native library asks for.</summary>
    internal const string RequiredLibStdCxxVersion = "GLIBCXX_3.4.32";

    private static readonly Lazy<InvalidOperationException?> Failure = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads libtorch's CPU backend if it is not loaded yet (what TorchSharp does on its first operation).</summary>
    /// <exception cref="InvalidOperationException">libtorch cannot be loaded; the message names the cause and the fix,
    /// and the inner exception is TorchSharp's own.</exception>
    public static void EnsureLoaded()
    {
        if (Failure.Value is { } failure)
        {
            throw new InvalidOperationException(failure.Message, failure.InnerException);
        }
    }

    /// <summary>
    /// The intra-op thread count the samples use when none is given: 1 on a machine with 2 or fewer logical
    /// processors, else half of them (about the physical cores).
    /// </summary>
    /// <remarks>
    /// libtorch's default uses every core for its intra-op thread pool. On a small machine that .NET's own threads and
    /// other processes share, those threads wait for each other: a RaddText training step ran 13 times faster with one
    /// thread than with libtorch's default on a loaded 2-core machine, with identical losses. Small models gain little
    /// from intra-op parallelism anyway.
    /// </remarks>
    public static int DefaultIntraOpThreads => Environment.ProcessorCount <= 2 ? 1 : Environment.ProcessorCount / 2;

    /// <summary>Loads libtorch (see <see cref="EnsureLoaded"/>) and sets its intra-op thread count for the whole process.</summary>
    /// <param name="threads">Threads, at least 1; see <see cref="DefaultIntraOpThreads"/> for a default.</param>
    /// <remarks>The setting is process-wide (libtorch's <c>set_num_threads</c>): an application sets it once, before
    /// training or sampling. Results do not depend on it beyond float rounding in reductions.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">libtorch cannot be loaded (see <see cref="EnsureLoaded"/>).</exception>
    public static void SetIntraOpThreads(int threads)
    {
        Require.AtLeast(threads, 1, nameof(threads));

        EnsureLoaded();
        torch.set_num_threads(threads);
    }

    /// <summary>libtorch's current intra-op thread count.</summary>
    /// <exception cref="InvalidOperationException">libtorch cannot be loaded (see <see cref="EnsureLoaded"/>).</exception>
    public static int IntraOpThreads
    {
        get
        {
            EnsureLoaded();
            return torch.get_num_threads();
        }
    }

    private static InvalidOperationException? Load()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception error) when (IsLoadFailure(error))
        {
            // TorchSharp's static constructor loads the native backend: its failure arrives wrapped.
            var cause = error is TypeInitializationException { InnerException: { } inner } ? inner : error;
            return new InvalidOperationException(Explain(cause.Message, HostLibStdCxxLackingRequiredVersion()), error);
        }
    }

    private static bool IsLoadFailure(Exception error) => error switch
    {
        TypeInitializationException { InnerException: { } inner } => IsLoadFailure(inner),
        NotSupportedException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException => true,
        _ => false,
    };

    /// <summary>The message for a libtorch load failure.</summary>
    /// <param name="torchMessage">TorchSharp's message.</param>
    /// <param name="libStdCxxLackingVersion">The host's <c>libstdc++.so.6</c> when it lacks
    /// <see cref="RequiredLibStdCxxVersion"/>, else <see langword="null"/>.</param>
    internal static string Explain(string torchMessage, string? libStdCxxLackingVersion)
    {
        var message = new StringBuilder("libtorch could not be loaded. ");
        if (libStdCxxLackingVersion is not null)
        {
            message.Append("The cause is this host's C++ runtime: ").Append(libStdCxxLackingVersion)
                .Append(" lacks the symbol version ").Append(RequiredLibStdCxxVersion)
                .Append(" that TorchSharp 0.107's libLibTorchSharp.so asks for (GCC 13's libstdc++; Debian 12 and Ubuntu 22.04 ship GCC 12's), ")
                .Append("so the loader refuses the library and TorchSharp reports a missing libtorch package instead. ")
                .Append("The fix: Logits.TorchSharp's build step marks that one requirement weak in the build output's copy of libLibTorchSharp.so. ")
                .Append("A PackageReference to Logits.TorchSharp applies it by itself; with a ProjectReference, add ")
                .Append("<Import Project=\"path/to/src/Logits.TorchSharp/build/Logits.TorchSharp.targets\" /> to the application's project file, ")
                .Append("then rebuild (the build log then says \"Logits.TorchSharp: host libstdc++ lacks GLIBCXX_3.4.32; marked that version requirement weak\"). ")
                .Append("Installing GCC 13's libstdc++ also works. ");
        }
        else
        {
            message.Append("Check that the application references TorchSharp-cpu (or a CUDA libtorch package) of TorchSharp's version. ");
        }

        return message.Append("TorchSharp said: ").Append(torchMessage).ToString();
    }

    /// <summary>The libstdc++ the dynamic loader would use, when it lacks <see cref="RequiredLibStdCxxVersion"/>.</summary>
    internal static string? HostLibStdCxxLackingRequiredVersion()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return null;
        }

        string? path = FindLibStdCxx();
        return path is not null && !ContainsAscii(path, RequiredLibStdCxxVersion) ? path : null;
    }

    private static string? FindLibStdCxx()
    {
        var folders = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] standard =
        {
            "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/lib64", "/usr/lib64", "/lib", "/usr/lib",
        };
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, "libstdc++.so.6");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (string folder in standard)
        {
            string candidate = Path.Combine(folder, "libstdc++.so.6");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Whether the file holds <paramref name="text"/> as ASCII bytes (a version-definition string).</summary>
    internal static bool ContainsAscii(string path, string text)
    {
        try
        {
            return File.ReadAllBytes(path).AsSpan().IndexOf(Encoding.ASCII.GetBytes(text)) >= 0;
        }
        catch (IOException)
        {
            return true; // unreadable: make no claim about the cause
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }
}
