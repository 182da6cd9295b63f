namespace Logits; internal static class Placeholder { }
