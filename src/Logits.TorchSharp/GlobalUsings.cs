// Namespaces most files of this project use, declared once (the usings a file lists are those particular to it).
global using System;
global using System.Collections.Generic;
global using System.IO;
global using System.Linq;
global using System.Threading;
global using Logits.Tensors;
global using Logits.TorchSharp.Tensors;
global using TorchSharp;
global using static TorchSharp.torch;
