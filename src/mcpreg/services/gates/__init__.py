"""Promotion gates: declared gates (``store``), their runs and what waits on them (``runs``),
and the runner that evaluates due checks outside any transaction (``runner``)."""
