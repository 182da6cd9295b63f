using System;
using System.Collections.Generic;
using LLama.Native;

namespace Logits.Benchmarks.Peers;

/// <summary>
/// llama.cpp's sampler API on a <c>llama_token_data</c> array, through LLamaSharp's native bindings (no model file:
/// the samplers measured here need none).
/// </summary>
/// <remarks>
/// The candidate array is allocated once; <see cref="Fill"/> writes <c>(id, logit, 0)</c> for every token, as
/// llama.cpp's common sampler does before each step, and <see cref="Apply"/> runs a chain on it. llama.cpp's samplers
/// shrink and reorder the array, so every measured call fills it again; the fill alone is measured too, to report
/// llama.cpp's time net of it.
/// </remarks>
public sealed class LlamaCandidates : IDisposable
{
    private readonly LLamaTokenData[] _data;

    static LlamaCandidates()
    {
        // llama.cpp logs to stderr by default; the benchmark output must stay readable.
        NativeLibraryConfig.All.WithLogCallback((level, message) => { });

        // Loads the native library: LLamaSharp registers its resolver (which picks the AVX level) on first use of NativeApi.
        NativeApi.llama_empty_call();
    }

    /// <summary>Loads llama.cpp with the log callback set (the static constructor's work; LLamaSharp accepts
    /// configuration only before the library is loaded, so every use of the native library goes through here first).</summary>
    public static void EnsureLoaded()
    {
    }

    /// <summary>Creates the candidate array for <paramref name="vocab"/> tokens.</summary>
    public LlamaCandidates(int vocab) => _data = new LLamaTokenData[vocab];

    /// <summary>How many candidates the last <see cref="Apply"/> left.</summary>
    public int Size { get; private set; }

    /// <summary>The token the last <see cref="Apply"/> selected (-1 when its chain selects none).</summary>
    public int SelectedToken { get; private set; } = -1;

    /// <summary>Writes <c>(id, logit, 0)</c> for every token.</summary>
    public void Fill(ReadOnlySpan<float> logits) => LLamaTokenDataArray.Create(logits, _data);

    /// <summary>Applies <paramref name="chain"/> to the candidates as they are now (entered through
    /// <see cref="LlamaSamplerEntry"/>, with the upper vector state cleared).</summary>
    public int Apply(SafeLLamaSamplerChainHandle chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var array = new LLamaTokenDataArray(_data, false);
        using var pin = LLamaTokenDataArrayNative.Create(array, out var native);
        LlamaSamplerEntry.Apply(chain, ref native);
        Size = (int)native.Size;
        SelectedToken = native.Selected >= 0 ? (int)_data[native.Selected].ID : -1;
        return SelectedToken;
    }

    /// <summary>The ids of the candidates the last <see cref="Apply"/> kept, ascending.</summary>
    public int[] KeptIds()
    {
        var ids = new int[Size];
        for (int i = 0; i < Size; i++)
        {
            ids[i] = (int)_data[i].ID;
        }

        Array.Sort(ids);
        return ids;
    }

    /// <summary>The logits of the kept candidates by id (after the chain's own rescaling, e.g. temperature or penalties).</summary>
    public Dictionary<int, float> KeptLogits()
    {
        var logits = new Dictionary<int, float>(Size);
        for (int i = 0; i < Size; i++)
        {
            logits[(int)_data[i].ID] = _data[i].Logit;
        }

        return logits;
    }

    /// <summary>Creates a chain.</summary>
    public static SafeLLamaSamplerChainHandle Chain() => SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
