// Namespaces most files of this project use, declared once (the usings a file lists are those particular to it).
global using System;
global using System.Collections.Generic;
global using System.IO;
global using System.Linq;
global using System.Threading;
global using System.Threading.Tasks;
global using Logits.Tensors;
