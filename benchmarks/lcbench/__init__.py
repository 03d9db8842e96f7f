"""LCBench (YAHPO Gym's surrogate of 34 OpenML tasks): our searches against the tuners researchers would pick instead,
on a simulated clock; `python -m benchmarks.lcbench --help`."""
