using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using LLama.Native;

namespace Logits.Benchmarks.Peers;

/// <summary>
/// Calls llama.cpp's <c>llama_sampler_apply</c> with the upper halves of the vector registers cleared, as it runs in a
/// process that executed no 256-bit vector code before the call.
/// </summary>
/// <remarks>
/// <para>Why: llama.cpp's samplers live in <c>libllama</c>, which is compiled without the vector flags of
/// <c>libggml-cpu</c>, so their loops are legacy (non-VEX) SSE code that calls glibc's VEX-encoded <c>expf</c>. When the
/// caller leaves the upper halves of the YMM registers dirty, every legacy SSE instruction then pays a transition
/// penalty: on the benchmark machine (AMD EPYC, 2 vCPUs) <c>llama_sampler_dist_apply</c> ran 2.3× slower (76 µs instead
/// of 32 µs at V = 4096; 2.4 ms instead of 1.0 ms at V = 128256), with glibc's <c>expf</c> about 4× slower per call.
/// Whether the state is dirty depends on which JIT-compiled code ran last: on the same rows and in the same process,
/// LLamaSharp's <c>SafeLLamaSamplerChainHandle.Apply</c> was slow or fast depending on how the rows had been
/// generated, and fast with <c>DOTNET_EnableAVX=0</c>, <c>DOTNET_TieredPGO=0</c> or
/// <c>DOTNET_PreferredVectorBitWidth=128</c>. A thunk that executes one 256-bit instruction before jumping to
/// <c>llama_sampler_apply</c> reproduced the slow time, and one that executes <c>vzeroupper</c> gave the fast time in
/// every case. That is the suite's 2× inflated llama.cpp baseline.</para>
/// <para>The fix: every llama.cpp peer call enters through a four-instruction native thunk (<c>vzeroupper</c>, then a
/// jump to <c>llama_sampler_apply</c>, arguments untouched), so llama.cpp is measured at its best, whatever ran
/// before. The thunk is built on x64 Linux with AVX (the CI machine); elsewhere the export is called directly
/// (<see cref="Mode"/> says which). An application that calls llama.cpp's samplers from .NET can meet the same
/// penalty; the Logits pipeline runs in managed code and does not.</para>
/// </remarks>
internal static unsafe partial class LlamaSamplerEntry
{
    private const int ProtectionReadWrite = 0x1 | 0x2;
    private const int ProtectionReadExecute = 0x1 | 0x4;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const int ThunkBytes = 4096;

    private static readonly delegate* unmanaged[Cdecl]<nint, LLamaTokenDataArrayNative*, void> Entry = Create(out _mode);

    private static readonly string _mode;

    /// <summary>How llama.cpp is entered: through the <c>vzeroupper</c> thunk, or directly (and why).</summary>
    public static string Mode => _mode;

    /// <summary>Applies <paramref name="chain"/> to <paramref name="candidates"/> (<c>llama_sampler_apply</c>).</summary>
    public static void Apply(SafeLLamaSamplerChainHandle chain, ref LLamaTokenDataArrayNative candidates)
    {
        ArgumentNullException.ThrowIfNull(chain);
        bool added = false;
        try
        {
            chain.DangerousAddRef(ref added);
            fixed (LLamaTokenDataArrayNative* native = &candidates)
            {
                Entry(chain.DangerousGetHandle(), native);
            }
        }
        finally
        {
            if (added)
            {
                chain.DangerousRelease();
            }
        }
    }

    private static delegate* unmanaged[Cdecl]<nint, LLamaTokenDataArrayNative*, void> Create(out string mode)
    {
        // The library LLamaSharp's own calls use: its resolver (which picks the AVX level) is registered for its assembly.
        LlamaCandidates.EnsureLoaded();
        nint library = NativeLibrary.Load("llama", typeof(NativeApi).Assembly, null);
        nint target = NativeLibrary.GetExport(library, "llama_sampler_apply");
        if (!(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64 && Avx.IsSupported))
        {
            mode = "direct call (the vzeroupper thunk is built on x64 Linux with AVX only)";
            return (delegate* unmanaged[Cdecl]<nint, LLamaTokenDataArrayNative*, void>)target;
        }

        nint page = Mmap(0, ThunkBytes, ProtectionReadWrite, MapPrivateAnonymous, -1, 0);
        if (page == -1)
        {
            mode = $"direct call (mmap failed: errno {Marshal.GetLastPInvokeError()})";
            return (delegate* unmanaged[Cdecl]<nint, LLamaTokenDataArrayNative*, void>)target;
        }

        // vzeroupper; movabs rax, target; jmp rax. The arguments (rdi, rsi) and the return address stay as the caller
        // set them, so llama_sampler_apply returns straight to the caller.
        var code = new Span<byte>((void*)page, 15);
        ReadOnlySpan<byte> vzeroupper = [0xC5, 0xF8, 0x77];
        vzeroupper.CopyTo(code);
        code[3] = 0x48;
        code[4] = 0xB8;
        BitConverter.TryWriteBytes(code[5..13], (long)target);
        code[13] = 0xFF;
        code[14] = 0xE0;
        if (Mprotect(page, ThunkBytes, ProtectionReadExecute) != 0)
        {
            mode = $"direct call (mprotect failed: errno {Marshal.GetLastPInvokeError()})";
            return (delegate* unmanaged[Cdecl]<nint, LLamaTokenDataArrayNative*, void>)target;
        }

        mode = "vzeroupper thunk (upper vector state cleared on entry)";
        return (delegate* unmanaged[Cdecl]<nint, LLamaTokenDataArrayNative*, void>)page;
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int descriptor, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int protection);
}
