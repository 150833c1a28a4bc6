"""Generated conversations and export files for the demo, the benchmarks and the tests.

Beside the runtime: nothing under ``qc`` that inspects, scores or stores imports this package.
"""
