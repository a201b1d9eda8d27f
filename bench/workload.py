"""What a load run sends (a Workload) and what it measured (a LoadResult)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Workload:
    """Requests over a fixed list of paths, round-robin from a random start per connection.

    ``etags`` (same length as ``paths``) adds ``If-None-Match`` per path; ``client_param`` appends
    a random integer to each path (the path must end with ``client=``); ``headers`` go on every
    request (e.g. ``Authorization``). ``method`` is GET unless given; ``body`` is sent with
    every request (the gateway scenario POSTs one JSON-RPC message).
    """

    scenario: str
    paths: tuple[str, ...]
    etags: tuple[str, ...] | None = None
    client_param: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body: str | None = None

    def request_headers(self, index: int) -> dict[str, str]:
        """The headers of the request for ``paths[index]``."""
        out = dict(self.headers)
        if self.etags is not None:
            out["If-None-Match"] = self.etags[index]
        return out

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError(f"workload {self.scenario} has no paths")
        if self.etags is not None and len(self.etags) != len(self.paths):
            raise ValueError("etags and paths differ in length")


@dataclass(frozen=True)
class LoadResult:
    """Counts and latency of one timed run; latencies in milliseconds."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    generator: str
    connections: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "rps": round(self.rps, 1)}


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]
