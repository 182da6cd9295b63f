using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Flows;

/// <summary>The hidden-layer nonlinearity of <see cref="MlpVelocityModel"/>.</summary>
public enum MlpActivation
{
    /// <summary>tanh (the official Rectified Flow Colab toy).</summary>
    Tanh,

    /// <summary>SiLU (x·sigmoid(x)).</summary>
    Silu,
}

/// <summary>
/// A small MLP velocity model <c>v_θ(x, t)</c> for low-dimensional flows: input <c>[x, e(t)]</c>, hidden layers of equal
/// width, linear output of dimension d.
/// </summary>
/// <remarks>
/// <para>Time embedding <c>e(t) = [t, sin(πk·t), cos(πk·t)]</c> for <c>k = 1…F</c>; <c>F = 0</c> gives the raw-t input of the
/// official Colab toy (<c>3 → 100 → 100 → 2</c> with tanh for d = 2). <see cref="forward"/> takes x <c>[B, d]</c> and t
/// <c>[B]</c> (library time, t = 0 noise) and returns <c>[B, d]</c>. Build with <see cref="Create"/>, which seeds the
/// initialisation; <see cref="AsVelocityField"/> plugs the model into the backend-neutral samplers.</para>
/// </remarks>
public sealed class MlpVelocityModel : Module<Tensor, Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> _network;

    private MlpVelocityModel(int dimension, int hiddenWidth, int hiddenLayers, int timeFrequencies, MlpActivation activation)
        : base(nameof(MlpVelocityModel))
    {
        Dimension = dimension;
        HiddenWidth = hiddenWidth;
        HiddenLayers = hiddenLayers;
        TimeFrequencies = timeFrequencies;
        Activation = activation;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long input = dimension + 1 + (2L * timeFrequencies);
        for (int i = 0; i < hiddenLayers; i++)
        {
            layers.Add(($"fc{i}", Linear(i == 0 ? input : hiddenWidth, hiddenWidth)));
            layers.Add(($"act{i}", activation == MlpActivation.Tanh ? Tanh() : SiLU()));
        }

        layers.Add(("out", Linear(hiddenWidth, dimension)));
        _network = Sequential(layers);
        RegisterComponents();
    }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>The hidden width.</summary>
    public int HiddenWidth { get; }

    /// <summary>The number of hidden layers.</summary>
    public int HiddenLayers { get; }

    /// <summary>F, the number of sinusoidal time frequencies.</summary>
    public int TimeFrequencies { get; }

    /// <summary>The nonlinearity.</summary>
    public MlpActivation Activation { get; }

    /// <summary>Creates a model with a seeded initialisation (float32, CPU).</summary>
    /// <param name="dimension">d ≥ 1.</param>
    /// <param name="hiddenWidth">Width ≥ 1 (default 100, the Colab value).</param>
    /// <param name="hiddenLayers">Hidden layers ≥ 1 (default 2).</param>
    /// <param name="timeFrequencies">F ≥ 0 (default 0: raw t as in the Colab).</param>
    /// <param name="activation">The nonlinearity (default tanh).</param>
    /// <param name="seed">Seeds a private generator that initialises the parameters.</param>
    /// <returns>The model, in training mode.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public static MlpVelocityModel Create(int dimension, int hiddenWidth = 100, int hiddenLayers = 2, int timeFrequencies = 0, MlpActivation activation = MlpActivation.Tanh, long seed = 0)
    {
        TorchRuntime.EnsureLoaded();
        Require.AtLeast(dimension, 1, nameof(dimension));
        Require.AtLeast(hiddenWidth, 1, nameof(hiddenWidth));
        Require.AtLeast(hiddenLayers, 1, nameof(hiddenLayers));
        Require.AtLeast(timeFrequencies, 0, nameof(timeFrequencies));
        Require.Defined(activation, nameof(activation));

        var model = new MlpVelocityModel(dimension, hiddenWidth, hiddenLayers, timeFrequencies, activation);
        model.Initialise(seed);
        return model;
    }

    /// <summary>
    /// Re-draws every weight and bias from <c>U(−1/√fan_in, 1/√fan_in)</c> (PyTorch's default <c>Linear</c> bounds) with a
    /// private generator, so the result depends on the seed only, not on other users of torch's global generator.
    /// </summary>
    private void Initialise(long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var module in _network.modules())
        {
            if (module is global::TorchSharp.Modules.Linear linear)
            {
                double bound = 1 / Math.Sqrt(linear.in_features);
                linear.weight!.uniform_(-bound, bound, generator);
                linear.bias?.uniform_(-bound, bound, generator);
            }
        }
    }

    /// <summary>A copy with the same architecture and parameter values (e.g. to fine-tune the 2-rectified flow from v¹).</summary>
    /// <returns>The copy, in training mode.</returns>
    public MlpVelocityModel Clone()
    {
        var copy = new MlpVelocityModel(Dimension, HiddenWidth, HiddenLayers, TimeFrequencies, Activation);
        using (no_grad())
        {
            var source = parameters().GetEnumerator();
            foreach (var target in copy.parameters())
            {
                source.MoveNext();
                target.copy_(source.Current);
            }
        }

        return copy;
    }

    /// <summary>The velocity <c>v_θ(x, t)</c>.</summary>
    /// <param name="x">States <c>[B, d]</c>.</param>
    /// <param name="t">Times <c>[B]</c> (or a scalar broadcast to B).</param>
    /// <returns><c>[B, d]</c>.</returns>
    public override Tensor forward(Tensor x, Tensor t)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(t);
        using var scope = NewDisposeScope();
        var time = t.to_type(x.dtype).reshape(-1, 1).expand(x.shape[0], 1);
        var features = new List<Tensor> { x, time };
        for (int k = 1; k <= TimeFrequencies; k++)
        {
            var angle = time.Times(Math.PI * k);
            features.Add(angle.sin());
            features.Add(angle.cos());
        }

        return _network.forward(cat(features, 1)).MoveToOuterDisposeScope();
    }

    /// <summary>This model as a backend-neutral <see cref="Logits.Flows.IVelocityField"/> (evaluated without gradients).</summary>
    /// <returns>The adapter.</returns>
    public TorchVelocityField AsVelocityField() => new(this);
}
