// CopilotArithmetic (issue 5): builds a synthetic character-level arithmetic data set ("12+34=46", "85-47=38") split
// by operand pairs into training, validation and test pairs; per seed trains a small decoder-only transformer (the
// Pilot) alone and jointly with a Transformer Copilot, evaluates greedy exact match of the Pilot and of fused
// Pilot+Copilot generation (λ chosen on the validation split), trains parameter- and compute-matched baselines, and
// prints one table. See docs/copilot.md.
//
//   dotnet run -c Release --project samples/CopilotArithmetic [-- --quick] [--seed N] [--runs K]   (--help lists every option)
using System;
using System.Globalization;
using Logits.Samples.CopilotArithmetic;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return ArithmeticExperiment.Execute(args, Console.Out, Console.Error);
