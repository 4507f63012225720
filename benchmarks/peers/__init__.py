"""Helpers of ``benchmarks/bench_peers.py``: convx against PyTorch, ONNX Runtime and NumPy.

* :mod:`peers.cases`   the case table (convx._benchmark's defaults plus the extra shapes)
* :mod:`peers.libs`    the peers: how each library runs a case's layers
* :mod:`peers.runner`  checking and interleaved timing of every side on the same inputs
* :mod:`peers.machine` machine description and the measured copy bandwidth
* :mod:`peers.report`  tables, BENCHMARKS.md and the ratio chart
"""
