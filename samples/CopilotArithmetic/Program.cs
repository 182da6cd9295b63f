// CopilotArithmetic (issue 17): Transformer Copilot in the paper's setting. Per seed, pre-trains a small decoder-only
// Pilot on 2-digit addition, fine-tunes it on 2-digit subtraction while a Copilot (initialised from the Pilot's blocks)
// learns from the fine-tuning Mistake Log, and compares fused generation (λ chosen on a validation split) with the
// fine-tuned Pilot alone and with parameter- and compute-matched Pilots on the same held-out problems: table, paired
// differences, McNemar tests, Copilot skill, overheads and a plot. See docs/copilot.md.
//
//   dotnet run -c Release --project samples/CopilotArithmetic [-- --quick] [--seeds K]   (--help lists every option)
using System;
using System.Globalization;
using Logits.Samples.CopilotArithmetic;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return ArithmeticExperiment.Execute(args, Console.Out, Console.Error);
