// Namespaces most files of this project use; the SDK's implicit usings add System and friends.
global using Logits.Tensors;
