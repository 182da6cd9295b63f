// CopilotArithmetic (issue 5, Pilot-only skeleton): builds a synthetic character-level arithmetic data set
// ("123+456=579", "305-47=258") split by operand pairs, trains a small decoder-only transformer (the Pilot) on the
// answer tokens, and reports held-out exact-match accuracy by greedy generation through Logits' TokenGenerator.
// The Copilot experiment (Mistake Log, Copilot, fused generation) is added on top of these files later.
//
//   dotnet run -c Release --project samples/CopilotArithmetic [-- --quick] [--seed N] [--runs K]
using System;
using System.Globalization;
using Logits.Samples.CopilotArithmetic;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
ArithmeticExperiment.Run(args, Console.Out);
return 0;
