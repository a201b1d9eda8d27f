"""A real webhook receiver on a free loopback port: ``http.server`` in a thread.

It answers each POST with the next status of its script (the last one repeats) and keeps
what it received (headers and the raw body), so a test can check the signature with
``domain.signing.verify``. ``hold()`` makes it keep the next requests waiting, without an
answer, until ``release()`` (or the end of the block): a gate's timeout, without a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self._answered = 0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/gate"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    index = min(receiver._answered, len(receiver.statuses) - 1)
                    receiver._answered += 1
                    status = receiver.statuses[index]
                receiver._open.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        return Handler

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receiving(*statuses: int) -> Iterator[Receiver]:
    """A started receiver answering ``statuses`` in turn (default 200), stopped on leaving."""
    receiver = Receiver(list(statuses) or [200])
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
