// Reflow toy: train a 1-rectified flow between 2-D distributions with a small MLP, reflow it once,
// and show that the 2-rectified flow is straighter and accurate with one Euler step.
// Run it with: dotnet run --project samples/ReflowToy2D -c Release [-- --quick] [--seed N] [--out DIR] [--experiment gaussian|triangle|both]
// (--help prints the options; a wrong argument prints them and exits with code 2).
using System;
using System.Globalization;
using Logits.Samples.ReflowToy2D;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return ReflowToy.Execute(args, Console.Out, error: Console.Error);
