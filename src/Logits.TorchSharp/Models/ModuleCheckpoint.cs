using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Models;

/// <summary>Saves and restores the parameters and buffers of any TorchSharp module (a Pilot, a Copilot, a velocity model...).</summary>
/// <remarks>
/// <para>The file is TorchSharp's own state-dictionary format (<c>Module.save</c> / <c>Module.load</c>), not a Python
/// pickle: it holds every named parameter and buffer, bit for bit. Loading copies the values into a module built with the
/// same architecture (for example <see cref="DecoderTransformer.Create"/> with the same options and any seed), so after
/// a round trip the module computes bit-identical outputs. Loading is strict: a missing or unexpected entry, or an
/// entry of a different shape, makes TorchSharp throw an <see cref="ArgumentException"/> and is never silently ignored
/// (entries read before the mismatch may already have been copied, so discard a module whose load failed). Optimizer
/// state is not part of the checkpoint.</para>
/// </remarks>
public static class ModuleCheckpoint
{
    /// <summary>Writes the module's parameters and buffers to a file (created or overwritten).</summary>
    /// <param name="module">The module.</param>
    /// <param name="path">The file path.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or white space.</exception>
    public static void Save(Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        ValidatePath(path);
        module.save(path);
    }

    /// <summary>Writes the module's parameters and buffers to a stream, which stays open.</summary>
    /// <param name="module">The module.</param>
    /// <param name="stream">A writable stream.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static void Save(Module module, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        module.save(writer);
        writer.Flush();
    }

    /// <summary>Reads parameters and buffers saved by <see cref="Save(Module, string)"/> into a module of the same architecture.</summary>
    /// <param name="module">The module to fill, in place.</param>
    /// <param name="path">The file path.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or white space, or the file does not match
    /// the module (TorchSharp's message names the entry).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static void Load(Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        ValidatePath(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No checkpoint at '{path}'.", path);
        }

        module.load(path, strict: true);
    }

    /// <summary>Reads parameters and buffers saved by <see cref="Save(Module, Stream)"/> from a stream, which stays open.</summary>
    /// <param name="module">The module to fill, in place.</param>
    /// <param name="stream">A readable stream positioned at the checkpoint.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The checkpoint does not match the module.</exception>
    public static void Load(Module module, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        module.load(reader, strict: true);
    }

    private static void ValidatePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (string.IsNullOrWhiteSpace(path))
        {
            ThrowHelper.ThrowArgument(nameof(path), "must not be empty.");
        }
    }
}
