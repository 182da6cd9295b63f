using BenchmarkDotNet.Running;

// Pick benchmarks with BenchmarkDotNet's switches, e.g. `-- --filter '*Softmax*'` (see docs/benchmarks.md).
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
