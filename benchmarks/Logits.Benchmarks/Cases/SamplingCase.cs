using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Processing;
using Logits.Tensors;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>
/// The common part of every sampling case: the fixed inputs (<see cref="LogitInput"/>), Logits' batch and contexts,
/// llama.cpp's candidate array, the TorchSharp tensors, and the row-copy floor.
/// </summary>
/// <remarks>
/// <para>Logits works in place, so each Logits benchmark first copies the input into its batch ("copy in"); peers that
/// work out of place read the same input directly. The <see cref="RowCopy"/> benchmark measures that copy alone.</para>
/// <para>Every benchmark method starts with <see cref="Next"/>: the case holds
/// <see cref="LogitInput.RotationLength"/> distinct inputs of the chosen <see cref="Distribution"/> and each call reads
/// the next one, for every peer alike. The peer checks hold one input (<see cref="HoldInput"/>).</para>
/// </remarks>
[MemoryDiagnoser]
[SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the instance; [GlobalCleanup] disposes the batch and tensor.")]
public abstract class SamplingCase
{
    /// <summary>The seed of every sampler (Logits, llama.cpp, TorchSharp) and of the uniforms of the scalar peer.</summary>
    protected const ulong SamplingSeed = 42;

    /// <summary>The vocabulary size V.</summary>
    public abstract int Vocab { get; set; }

    /// <summary>The kind of logit rows.</summary>
    [ParamsAllValues]
    public LogitDistribution Distribution { get; set; }

    /// <summary>Rows of the batch (1 unless a batch case).</summary>
    protected virtual int Rows => 1;

    /// <summary>The current input logits, row-major (one of the rotation; see <see cref="Next"/>).</summary>
    protected float[] Input => _inputs[_slot];

    /// <summary>How many distinct inputs the case rotates through.</summary>
    protected int InputCount => _inputs.Length;

    /// <summary>The index of the current input in the rotation.</summary>
    protected int InputIndex => _slot;

    /// <summary>The destination of out-of-place peers.</summary>
    protected float[] Destination { get; private set; } = [];

    /// <summary>Logits' batch, overwritten by a copy of <see cref="Input"/> on every Logits call.</summary>
    protected CpuLogitBatch Batch { get; private set; } = null!;

    /// <summary>One sampling context per row.</summary>
    protected SamplingContext[] Contexts { get; private set; } = [];

    /// <summary>One token per row.</summary>
    protected int[] Tokens { get; private set; } = [];

    /// <summary>llama.cpp's candidate array.</summary>
    protected LlamaCandidates Llama { get; private set; } = null!;

    /// <summary>The current input as a CPU tensor of shape [V] (one row) or [rows, V].</summary>
    /// <remarks>The tensors (and libtorch itself) are created on first use, so a process that runs only a
    /// non-torch peer (the peer check's children) never loads libtorch.</remarks>
    protected torch.Tensor Tensor => Tensors()[_slot];

    private float[][] _inputs = [];
    private torch.Tensor[] _tensors = [];
    private int _slot;
    private bool _held;

    /// <summary>Creates the input and the peers' state.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int count = LogitInput.RotationLength(Rows, Vocab);
        _inputs = new float[count][];
        _tensors = [];
        for (int i = 0; i < count; i++)
        {
            _inputs[i] = LogitInput.Create(Rows, Vocab, Distribution, i * Rows);
        }

        _slot = 0;
        Destination = new float[Rows * Vocab];
        Batch = new CpuLogitBatch(Rows, Vocab);
        Contexts = SamplingContext.ForRows(Rows);
        Tokens = new int[Rows];
        Llama = new LlamaCandidates(Vocab);
        SetupCase();
    }

    /// <summary>Releases the tensor and native state.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        CleanupCase();
        foreach (var tensor in _tensors)
        {
            tensor.Dispose();
        }

        Batch.Dispose();
        Llama.Dispose();
    }

    /// <summary>One copy of the input: the memory floor.</summary>
    [Benchmark(Description = "row copy (floor)")]
    [Peer(Peer.RowCopy)]
    public void RowCopy()
    {
        Next();
        Input.AsSpan().CopyTo(Destination);
    }

    /// <summary>Moves to the next input of the rotation (the first statement of every benchmark method).</summary>
    protected void Next()
    {
        if (!_held && ++_slot == _inputs.Length)
        {
            _slot = 0;
        }
    }

    /// <summary>Keeps the current input until the returned scope ends, so a check compares every peer on one input.</summary>
    protected IDisposable HoldInput()
    {
        _held = true;
        return new Release(this);
    }

    /// <summary>The input tensor at <paramref name="index"/> of the rotation (for cases that prepare per-input state).</summary>
    protected torch.Tensor TensorAt(int index) => Tensors()[index];

    private torch.Tensor[] Tensors()
    {
        if (_tensors.Length == 0)
        {
            torch.manual_seed((long)SamplingSeed);

            // One intra-op thread for a single row, as Logits, llama.cpp and the scalar peer use; all cores for a
            // batch. (libtorch's default, all cores, also made its single-row times swing by 100× on the shared machine.)
            torch.set_num_threads(Rows == 1 ? 1 : Environment.ProcessorCount);
            // Created on first use, possibly inside a peer's dispose scope: detached from it, they live until Cleanup.
            _tensors = _inputs.Select(input => (Rows == 1 ? torch.tensor(input) : torch.tensor(input, new long[] { Rows, Vocab })).DetachFromDisposeScope()).ToArray();
        }

        return _tensors;
    }

    /// <summary>Case-specific setup, after the common state exists.</summary>
    protected virtual void SetupCase()
    {
    }

    /// <summary>Case-specific cleanup.</summary>
    protected virtual void CleanupCase()
    {
    }

    /// <summary>
    /// Restores Logits' in-place input as the LLamaSharp sampler adapter copies llama.cpp's row in:
    /// <see cref="CpuLogitBatch.CopyRowFrom"/> per row, which checks the row in the same pass, so the pipeline call
    /// skips its own entry check.
    /// </summary>
    protected void CopyIn()
    {
        for (int r = 0; r < Rows; r++)
        {
            Batch.CopyRowFrom(r, Input.AsSpan(r * Vocab, Vocab));
        }
    }

    /// <summary>The ids of the finite entries of <paramref name="row"/>, ascending.</summary>
    protected static int[] Kept(ReadOnlySpan<float> row)
    {
        var ids = new List<int>();
        for (int i = 0; i < row.Length; i++)
        {
            if (row[i] > float.NegativeInfinity)
            {
                ids.Add(i);
            }
        }

        return ids.ToArray();
    }

    /// <summary>A mismatch message when the two kept sets differ, else null.</summary>
    protected static string? CompareKept(string peer, int[] logits, int[] other)
    {
        if (logits.AsSpan().SequenceEqual(other))
        {
            return null;
        }

        return $"{peer}: kept {other.Length} tokens, Logits kept {logits.Length} ({Preview(other)} vs {Preview(logits)})";
    }

    /// <summary>A mismatch message when two value arrays differ beyond tolerance, else null.</summary>
    protected static string? CompareValues(string peer, ReadOnlySpan<float> logits, ReadOnlySpan<float> other, double relative, double absolute)
    {
        if (logits.Length != other.Length)
        {
            return $"{peer}: {other.Length} values, Logits {logits.Length}";
        }

        for (int i = 0; i < logits.Length; i++)
        {
            double a = logits[i];
            double b = other[i];
            if (a == b)
            {
                continue;
            }

            if (!double.IsFinite(a) || !double.IsFinite(b) || Math.Abs(a - b) > absolute + (relative * Math.Abs(a)))
            {
                return $"{peer}: value {i} is {b}, Logits {a}";
            }
        }

        return null;
    }

    /// <summary>Collects the non-null messages.</summary>
    protected static IReadOnlyList<string> Messages(params string?[] messages)
    {
        var list = new List<string>();
        foreach (string? message in messages)
        {
            if (message is not null)
            {
                list.Add(message);
            }
        }

        return list;
    }

    private sealed class Release(SamplingCase owner) : IDisposable
    {
        public void Dispose() => owner._held = false;
    }

    private static string Preview(int[] ids) => ids.Length <= 8 ? string.Join(",", ids) : string.Join(",", ids[..8]) + ",…";
}
