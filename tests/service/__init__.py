"""Tessera as operators run it: configuration, the console script, health, two instances
over shared services, and the benchmarks."""
