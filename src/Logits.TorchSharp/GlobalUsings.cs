// Namespaces most files of this project use; the SDK's implicit usings add System and friends.
global using Logits.Tensors;
global using Logits.TorchSharp.Tensors;
global using TorchSharp;
global using static TorchSharp.torch;
