"""mcpreg benchmark harness: synthetic catalogues, import rate, HTTP load against a bare baseline.

Run it from the repository root with ``python -m bench`` (``make bench``) or
``python -m bench --quick`` (``make bench-quick``). It reports numbers and asserts nothing.
"""
