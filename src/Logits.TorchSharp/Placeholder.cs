namespace Logits.TorchSharp; internal static class Placeholder { }
