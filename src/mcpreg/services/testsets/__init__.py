"""Test sets: stored per server (``sets``), run against one version in one environment with
the real ``mcp`` client through the gateway's own upstream path (``runner``), their runs kept
(``runs``), and the promotion gates' hook (``gate.run_for_gate``)."""
