"""How a proxied exchange ended, read from what passed through (pure, no I/O).

Outcomes (``domain.traffic.OUTCOMES``): ``ok``; ``jsonrpc_error`` (a JSON-RPC error
response, or a 4xx of the upstream); ``tool_error`` (a result with ``isError: true``, which
is never a success); ``upstream_5xx``; ``timeout``; ``refused`` (the connection failed or
the guard refused the address). A JSON answer is read whole (it is one message); an SSE
stream is read event by event as it passes, without holding it: ``SseReader`` keeps only
the unfinished line and the worst outcome seen so far.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

Outcome = Literal["ok", "jsonrpc_error", "tool_error", "upstream_5xx", "timeout", "refused"]

_RANK: dict[Outcome, int] = {"ok": 0, "tool_error": 1, "jsonrpc_error": 2}
MAX_LINE = 4 * 1024 * 1024  # an SSE line longer than this is not read for its outcome


def of_message(message: Any) -> Outcome:
    """The outcome a JSON-RPC message (or batch) reports; requests and notifications are ``ok``."""
    if isinstance(message, list):
        return worst(*(of_message(item) for item in message)) if message else "ok"
    if not isinstance(message, dict):
        return "ok"
    if "error" in message and "id" in message:
        return "jsonrpc_error"
    result = message.get("result")
    if isinstance(result, dict) and result.get("isError") is True:
        return "tool_error"
    return "ok"


def worst(*outcomes: Outcome) -> Outcome:
    """The most severe of ``ok`` < ``tool_error`` < ``jsonrpc_error``."""
    return max(outcomes, key=lambda outcome: _RANK.get(outcome, 3), default="ok")


def of_json(body: bytes) -> Outcome:
    try:
        return of_message(orjson.loads(body))
    except orjson.JSONDecodeError:
        return "ok"


def of_status(status: int) -> Outcome | None:
    """The outcome an upstream's status decides alone (None: read the body)."""
    if status >= 500:
        return "upstream_5xx"
    if status >= 400:
        return "jsonrpc_error"
    return None


class SseReader:
    """Reads the outcome out of an SSE stream chunk by chunk (``data:`` lines only)."""

    def __init__(self) -> None:
        self._partial = b""
        self._data: list[bytes] = []
        self.outcome: Outcome = "ok"

    def feed(self, chunk: bytes) -> None:
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_LINE:
            self._partial = b""
        for line in lines:
            self._line(line.rstrip(b"\r"))

    def _line(self, line: bytes) -> None:
        if not line:  # the end of one event
            if self._data:
                self.outcome = worst(self.outcome, of_json(b"\n".join(self._data)))
                self._data = []
            return
        if line.startswith(b"data:"):
            self._data.append(line[5:].removeprefix(b" "))

    def close(self) -> Outcome:
        """The outcome once the stream ended (a last event without its blank line counts)."""
        if self._partial:
            self._line(self._partial.rstrip(b"\r"))
            self._partial = b""
        self._line(b"")
        return self.outcome
