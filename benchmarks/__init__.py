"""lazysignal benchmarks: ``python -m benchmarks [--quick] [--list] [NAME ...]``."""
