// Classic logit primitives, one command each: naive Bayes vs logistic regression sample efficiency, large-step
// logistic regression and the perceptron (the paper's Table 1), target-based surrogates (SSO) against gradient
// descent, and a position auction with VCG payments.
// Run it with: dotnet run --project samples/ClassicLogits -c Release -- <command> [--quick] [--seed N] [--out DIR]
using System;
using System.Globalization;
using Logits.Samples.ClassicLogits;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return ClassicLogitsApp.Run(args, Console.Out);
