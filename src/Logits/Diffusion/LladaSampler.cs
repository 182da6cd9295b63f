using Logits.Processing;
using Logits.Processing.Warping;
using Logits.Randomness;

namespace Logits.Diffusion;

/// <summary>
/// LLaDA's semi-autoregressive sampler with low-confidence (or random) remasking: the answer is decoded block by block,
/// and each step reveals the quota's most confident of the block's masked positions.
/// </summary>
/// <remarks>
/// <para>
/// Layout (docs/algorithms/discrete-diffusion.md#llada-low-confidence-remasking): an answer of G tokens after each prompt, split into G/B blocks of B tokens,
/// with S/(G/B) steps per block. A block with m masked positions at its start and s steps reveals
/// <c>⌊m/s⌋</c> per step plus one in each of the first <c>m mod s</c> steps (<see cref="Quotas"/>).
/// </para>
/// <para>
/// One step: ℓ = model(x) (with guidance w &gt; 0, ℓ = ℓ_u + (w + 1)(ℓ_c − ℓ_u), ℓ_u from a second pass with the prompt
/// masked, combined with the <see cref="ILogitKernels.Affine"/> kernel); suppressed tokens and the mask column are set to −∞.
/// For every masked position i of the current block, in ascending order: the proposal
/// <c>x̂_i = argmax_y (ℓ_{i,y} + T·G_{i,y})</c> (Gumbel G = −ln(−ln U), one uniform per finite entry in ascending token id;
/// T ≤ 1e-5 is argmax with no draw, ties to the lowest id), an exact draw from softmax(ℓ_i/T); then the confidence:
/// <see cref="LladaRemasking.LowConfidence"/> uses softmax(ℓ_i)[x̂_i] (untempered, float64, max-shifted),
/// <see cref="LladaRemasking.Random"/> draws one more uniform. Deprioritised proposals get confidence −∞ (revealed last).
/// The quota's highest confidences are revealed, ties to the lower position (library decision); revealed tokens are final.
/// A zero-quota step calls nothing and draws nothing (library decision; the official code still calls the model).
/// </para>
/// <para>
/// Low-confidence remasking is a heuristic: even with an exact model it favours high-probability tokens.
/// Random remasking with one token per step and T = 1 is exact. Source: Nie et al., "Large Language Diffusion Models",
/// arXiv 2502.09992; official repository ML-GSAI/LLaDA.
/// </para>
/// </remarks>
public sealed class LladaSampler
{
    private readonly int[] _suppressed;
    private readonly int[] _deprioritised;

    /// <summary>Creates the sampler.</summary>
    /// <param name="generationLength">G, the answer length, at least 1.</param>
    /// <param name="blockLength">B, in <c>[1, G]</c>, dividing G.</param>
    /// <param name="steps">S, at least G/B and a multiple of it.</param>
    /// <param name="temperature">T ≥ 0, finite; 0 (default) is greedy.</param>
    /// <param name="remasking">Low-confidence (default) or random.</param>
    /// <param name="guidanceScale">Classifier-free guidance w ≥ 0, finite; 0 (default) is off.</param>
    /// <param name="suppressTokens">Token ids whose columns are set to −∞ (e.g. EOS/EoT); none by default.</param>
    /// <param name="deprioritisedTokens">Token ids whose proposals get confidence −∞ (revealed last); none by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or scalar outside its range, or an undefined <paramref name="remasking"/>.</exception>
    /// <exception cref="ArgumentException">B does not divide G, or S is not a multiple of G/B; a negative token id.</exception>
    public LladaSampler(int generationLength, int blockLength, int steps, double temperature = 0.0, LladaRemasking remasking = LladaRemasking.LowConfidence, double guidanceScale = 0.0, IEnumerable<int>? suppressTokens = null, IEnumerable<int>? deprioritisedTokens = null)
    {
        GenerationLength = Require.AtLeast(generationLength, 1, nameof(generationLength));

        if (blockLength < 1 || blockLength > generationLength)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(blockLength), blockLength, $"must be in [1, {generationLength}] (the generation length)");
        }

        if (generationLength % blockLength != 0)
        {
            ThrowHelper.ThrowArgument(nameof(blockLength), $"must divide the generation length {generationLength}; got {blockLength}.");
        }

        int blocks = generationLength / blockLength;
        if (steps < blocks)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), steps, $"must be at least the number of blocks {blocks}");
        }

        if (steps % blocks != 0)
        {
            ThrowHelper.ThrowArgument(nameof(steps), $"must be a multiple of the number of blocks {blocks}; got {steps}.");
        }

        Temperature = Require.FiniteNonNegative(temperature, nameof(temperature));
        Remasking = Require.Defined(remasking, nameof(remasking));

        GuidanceScale = Require.FiniteNonNegative(guidanceScale, nameof(guidanceScale));

        BlockLength = blockLength;
        Steps = steps;
        _suppressed = Ids(suppressTokens, nameof(suppressTokens));
        _deprioritised = Ids(deprioritisedTokens, nameof(deprioritisedTokens));
    }

    /// <summary>G, the answer length.</summary>
    public int GenerationLength { get; }

    /// <summary>B, the block length.</summary>
    public int BlockLength { get; }

    /// <summary>S, the total number of steps.</summary>
    public int Steps { get; }

    /// <summary>T, the proposal temperature.</summary>
    public double Temperature { get; }

    /// <summary>The remasking rule.</summary>
    public LladaRemasking Remasking { get; }

    /// <summary>The classifier-free guidance scale w.</summary>
    public double GuidanceScale { get; }

    /// <summary>The per-step quotas of a block: <c>⌊m/s⌋</c>, plus one in each of the first <c>m mod s</c> steps.</summary>
    /// <param name="masked">m ≥ 0, the masked positions at the block's start.</param>
    /// <param name="steps">s ≥ 1.</param>
    /// <returns>s quotas summing to m; (10, 4) → [3, 3, 2, 2].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="masked"/> &lt; 0 or <paramref name="steps"/> &lt; 1.</exception>
    public static int[] Quotas(int masked, int steps)
    {
        if (masked < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(masked), masked, "must be at least 0");
        }

        Require.AtLeast(steps, 1, nameof(steps));

        var quotas = new int[steps];
        for (int s = 0; s < steps; s++)
        {
            quotas[s] = (masked / steps) + (s < masked % steps ? 1 : 0);
        }

        return quotas;
    }

    /// <summary>Generates G tokens after each prompt, seeded per sequence.</summary>
    /// <param name="model">The mask predictor.</param>
    /// <param name="prompts"><c>sequences × P</c> prompt ids (P may be 0); mask ids inside a prompt are left as they are.</param>
    /// <param name="sequences">The batch size, at least 1.</param>
    /// <param name="seed">Sequence b draws from <c>Xoshiro256StarStar.ForRow(seed, b)</c>.</param>
    /// <returns><c>sequences × (P + G)</c> ids; <see cref="DiffusionResult.RevealSteps"/> holds the global step of each answer position.</returns>
    /// <exception cref="ArgumentException">The prompt is not a multiple of <paramref name="sequences"/>, or holds an id outside the row.</exception>
    public DiffusionResult Sample(IMaskPredictor model, ReadOnlySpan<int> prompts, int sequences, ulong seed) =>
        Run(model, prompts, sequences, UniformStream.FromSeed(seed, sequences));

    /// <summary>As the seeded overload, drawing sequence b's uniforms from <paramref name="streams"/>[b].</summary>
    /// <param name="model">The mask predictor.</param>
    /// <param name="prompts"><c>sequences × P</c> prompt ids.</param>
    /// <param name="streams">One stream per sequence.</param>
    /// <returns>The sequences.</returns>
    public DiffusionResult Sample(IMaskPredictor model, ReadOnlySpan<int> prompts, IReadOnlyList<IRandomSource> streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        return Run(model, prompts, streams.Count, UniformStream.FromSources(streams, streams.Count));
    }

    /// <summary>As the seeded overload, reading sequence b's uniforms from <paramref name="uniforms"/>[b] in the order of the remarks.</summary>
    /// <param name="model">The mask predictor.</param>
    /// <param name="prompts"><c>sequences × P</c> prompt ids.</param>
    /// <param name="uniforms">One span of values in <c>(0, 1)</c> per sequence.</param>
    /// <returns>The sequences.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value outside <c>(0, 1)</c>.</exception>
    /// <exception cref="ArgumentException">A span runs out.</exception>
    public DiffusionResult Sample(IMaskPredictor model, ReadOnlySpan<int> prompts, IReadOnlyList<ReadOnlyMemory<double>> uniforms)
    {
        ArgumentNullException.ThrowIfNull(uniforms);
        return Run(model, prompts, uniforms.Count, UniformStream.FromValues(uniforms, uniforms.Count));
    }

    private static int[] Ids(IEnumerable<int>? ids, string paramName)
    {
        if (ids is null)
        {
            return Array.Empty<int>();
        }

        var list = new List<int>(ids);
        foreach (int id in list)
        {
            if (id < 0)
            {
                ThrowHelper.ThrowArgument(paramName, $"holds the negative id {id}.");
            }
        }

        return list.ToArray();
    }

    private DiffusionResult Run(IMaskPredictor model, ReadOnlySpan<int> prompts, int sequences, UniformStream[] uniforms)
    {
        ArgumentNullException.ThrowIfNull(model);
        int width = model.RowWidth;
        int maskId = model.MaskId;
        if (width < 1 || maskId < 0 || maskId >= width)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(model), maskId, $"must use a mask id inside its logit row [0, {width})");
        }

        Require.AtLeast(sequences, 1, nameof(sequences));

        if (prompts.Length % sequences != 0)
        {
            ThrowHelper.ThrowArgument(nameof(prompts), $"has {prompts.Length} ids, which is not a multiple of {sequences} sequences.");
        }

        foreach (int id in _suppressed)
        {
            if (id >= width)
            {
                ThrowHelper.ThrowArgumentOutOfRange("suppressTokens", id, $"must hold ids below the row width {width}");
            }
        }

        int promptLength = prompts.Length / sequences;
        int length = promptLength + GenerationLength;
        var tokens = new int[sequences * length];
        for (int b = 0; b < sequences; b++)
        {
            var prompt = prompts.Slice(b * promptLength, promptLength);
            for (int i = 0; i < promptLength; i++)
            {
                if (prompt[i] < 0 || prompt[i] >= width)
                {
                    ThrowHelper.ThrowArgument(nameof(prompts), $"holds {prompt[i]}, outside the logit row [0, {width}).");
                }
            }

            prompt.CopyTo(tokens.AsSpan(b * length));
            tokens.AsSpan((b * length) + promptLength, GenerationLength).Fill(maskId);
        }

        var revealSteps = new int[tokens.Length];
        Array.Fill(revealSteps, -1);
        var evaluations = new int[sequences];
        int blocks = GenerationLength / BlockLength;
        int stepsPerBlock = Steps / blocks;
        int rows = sequences * length;
        float[] host = ArrayPool<float>.Shared.Rent(rows * width);
        var proposals = new int[BlockLength];
        var confidences = new double[BlockLength];
        var eligible = new bool[BlockLength];
        try
        {
            for (int block = 0; block < blocks; block++)
            {
                int start = promptLength + (block * BlockLength);

                // Every sequence starts the block with all B positions masked, so all share the quotas.
                int[] quotas = Quotas(BlockLength, stepsPerBlock);
                for (int s = 0; s < stepsPerBlock; s++)
                {
                    int quota = quotas[s];
                    if (quota == 0)
                    {
                        continue;
                    }

                    Evaluate(model, tokens, sequences, promptLength, host.AsSpan(0, rows * width), evaluations);
                    int globalStep = (block * stepsPerBlock) + s;
                    for (int b = 0; b < sequences; b++)
                    {
                        Step(host.AsSpan(b * length * width, length * width), tokens.AsSpan(b * length, length), revealSteps.AsSpan(b * length, length), start, quota, maskId, width, uniforms[b], proposals, confidences, eligible, globalStep, b * length);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(host);
        }

        return new DiffusionResult(tokens, sequences, length, revealSteps, evaluations);
    }

    private void Evaluate(IMaskPredictor model, int[] tokens, int sequences, int promptLength, Span<float> host, int[] evaluations)
    {
        int length = tokens.Length / sequences;
        int width = model.RowWidth;
        using LogitBatch conditional = Checked(model.Predict(tokens, sequences), tokens.Length, width);
        for (int b = 0; b < sequences; b++)
        {
            evaluations[b]++;
        }

        if (GuidanceScale > 0 && promptLength > 0)
        {
            int[] unconditionalTokens = (int[])tokens.Clone();
            for (int b = 0; b < sequences; b++)
            {
                unconditionalTokens.AsSpan(b * length, promptLength).Fill(model.MaskId);
                evaluations[b]++;
            }

            using LogitBatch unconditional = Checked(model.Predict(unconditionalTokens, sequences), tokens.Length, width);

            // l = l_u + (w + 1)(l_c - l_u) = (w + 1) l_c - w l_u.
            conditional.Kernels.Affine((float)(GuidanceScale + 1), conditional, (float)-GuidanceScale, unconditional, 0f, null, conditional);
        }

        conditional.CopyTo(host);
        DiffusionMath.CheckFinite(host, width, 0, "mask predictor output");
        for (int r = 0; r < tokens.Length; r++)
        {
            Span<float> row = host.Slice(r * width, width);
            row[model.MaskId] = float.NegativeInfinity;
            foreach (int id in _suppressed)
            {
                row[id] = float.NegativeInfinity;
            }
        }
    }

    private static LogitBatch Checked(LogitBatch? batch, int rows, int width)
    {
        if (batch is null || batch.Rows != rows || batch.Vocab != width)
        {
            batch?.Dispose();
            ThrowHelper.ThrowArgument("model", $"must return a batch of [{rows}, {width}] (sequences × length rows, row-width columns).");
        }

        return batch;
    }

    private void Step(ReadOnlySpan<float> logits, Span<int> tokens, Span<int> revealSteps, int start, int quota, int maskId, int width, UniformStream uniforms, int[] proposals, double[] confidences, bool[] eligible, int globalStep, int rowOffset)
    {
        bool greedy = Temperature <= TemperatureProcessor.GreedyThreshold;
        int candidates = 0;
        for (int j = 0; j < BlockLength; j++)
        {
            int i = start + j;
            eligible[j] = tokens[i] == maskId;
            if (!eligible[j])
            {
                continue;
            }

            candidates++;
            ReadOnlySpan<float> row = logits.Slice(i * width, width);
            int proposal = greedy ? ArgMax(row) : GumbelArgMax(row, Temperature, uniforms);
            if (proposal < 0)
            {
                ThrowHelper.ThrowNoViableToken(rowOffset + i, "LLaDA proposal");
            }

            proposals[j] = proposal;
            confidences[j] = Remasking == LladaRemasking.Random ? uniforms.Next() : Probability(row, proposal);
            if (Array.IndexOf(_deprioritised, proposal) >= 0)
            {
                confidences[j] = double.NegativeInfinity;
            }
        }

        // Reveal the quota's highest confidences; strict '>' keeps the lower position on ties.
        for (int q = 0; q < Math.Min(quota, candidates); q++)
        {
            int best = -1;
            for (int j = 0; j < BlockLength; j++)
            {
                if (eligible[j] && (best < 0 || confidences[j] > confidences[best]))
                {
                    best = j;
                }
            }

            eligible[best] = false;
            tokens[start + best] = proposals[best];
            revealSteps[start + best] = globalStep;
        }
    }

    internal static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = -1;
        for (int y = 0; y < row.Length; y++)
        {
            if (!float.IsNegativeInfinity(row[y]) && (best < 0 || row[y] > row[best]))
            {
                best = y;
            }
        }

        return best;
    }

    internal static int GumbelArgMax(ReadOnlySpan<float> row, double temperature, UniformStream uniforms)
    {
        int best = -1;
        double bestScore = double.NegativeInfinity;
        for (int y = 0; y < row.Length; y++)
        {
            if (float.IsNegativeInfinity(row[y]))
            {
                continue;
            }

            // Additive form l + T G (the official exp(l)/E^T overflows for large logits; same argmax).
            double score = row[y] - (temperature * Math.Log(-Math.Log(uniforms.Next())));
            if (best < 0 || score > bestScore)
            {
                best = y;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>softmax(row)[token] in float64 with the row maximum subtracted.</summary>
    internal static double Probability(ReadOnlySpan<float> row, int token)
    {
        var (max, z) = HostRowMath.MaxAndShiftedSumExp(row);
        return Math.Exp(row[token] - max) / z;
    }
}
