"""``make bench``: Spartacus's gas, scale, roster and release figures, measured on anvil.

``python -m bench.run`` starts its own anvil on a free loopback port, measures, prints one
table and writes ``bench/results.json``. docs/performance.md explains every figure.
"""
