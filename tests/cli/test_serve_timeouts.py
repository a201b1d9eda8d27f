"""``mcpreg serve`` closes idle and half-sent connections (real sockets against a real process).

The server runs with MCPREG_KEEPALIVE_TIMEOUT=1 and MCPREG_HEADER_TIMEOUT=1; every wait
below is bounded by ``BOUND`` seconds, under uvicorn's own 5-second keep-alive default, and
ends as soon as the server closes the connection.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from mcpreg.serving import MAX_HEADER_BYTES
from tests.conftest import TEST_KEYS
from tests.support.served import running_serve, serve_env

pytestmark = pytest.mark.slow

BOUND = 3.5
HEAD = b"GET /v0.1/health HTTP/1.1\r\nHost: registry\r\n"


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    home = tmp_path_factory.mktemp("serve-timeouts")
    env = serve_env(
        MCPREG_DATA_DIR=str(home / "data"),
        MCPREG_SAMPLE_DATA="0",
        MCPREG_SECRET_KEYS=TEST_KEYS,
        MCPREG_ACCESS_LOG="0",
        MCPREG_KEEPALIVE_TIMEOUT="1",
        MCPREG_HEADER_TIMEOUT="1",
    )
    with running_serve(env, home / "serve.log", cwd=home) as spawned:
        parts = urlsplit(spawned.url)
        assert parts.hostname is not None and parts.port is not None
        yield parts.hostname, parts.port


def _connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=BOUND)


def _read_until_closed(sock: socket.socket, bound: float = BOUND) -> bytes:
    """Everything the server sends until it closes; fails if it is still open after ``bound`` s."""
    received = b""
    deadline = time.monotonic() + bound
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the server kept the connection open for {bound} s: {received!r}")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def _one_request(sock: socket.socket, *pieces: bytes) -> bytes:
    for piece in pieces or (HEAD + b"\r\n",):
        sock.sendall(piece)
    response = b""
    while b"\r\n\r\n" not in response or not response.endswith(b"}"):
        chunk = sock.recv(65536)
        assert chunk, f"closed mid-response: {response!r}"
        response += chunk
    return response


def test_a_connection_that_never_sends_a_byte_is_closed(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        assert _read_until_closed(sock) == b""


def test_a_half_sent_request_gets_408_and_is_closed(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        sock.sendall(HEAD)
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 408 ")


def test_a_request_trickled_a_byte_at_a_time_is_cut_off_at_the_header_deadline(
    address: tuple[str, int],
) -> None:
    """Slowloris: each byte would reset a keep-alive timer, but not the header deadline."""
    with _connect(address) as sock:
        deadline = time.monotonic() + BOUND
        trickle = iter(HEAD + b"X-Slow: " + b"a" * 10_000)
        while time.monotonic() < deadline:
            try:
                sock.send(bytes([next(trickle)]))
            except (BrokenPipeError, ConnectionResetError):
                break
            readable, _, _ = select.select([sock], [], [], 0.1)  # a bounded wait for the server to act
            if readable:
                break
        assert _read_until_closed(sock, bound=max(0.1, deadline - time.monotonic())).startswith(
            b"HTTP/1.1 408 "
        )


def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout(
    address: tuple[str, int],
) -> None:
    with _connect(address) as sock:
        assert _one_request(sock).startswith(b"HTTP/1.1 200 ")
        assert _read_until_closed(sock) == b""


def test_a_kept_alive_connection_serves_requests_sent_in_pieces_in_time(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        assert _one_request(sock).startswith(b"HTTP/1.1 200 ")
        again = _one_request(sock, HEAD[:10], HEAD[10:], b"\r\n")
        assert again.startswith(b"HTTP/1.1 200 ")


def test_request_headers_over_the_size_bound_get_431(address: tuple[str, int]) -> None:
    with _connect(address) as sock:
        sock.sendall(HEAD)
        filler = b"X-Filler: " + b"f" * 1000 + b"\r\n"
        sock.sendall(filler * (MAX_HEADER_BYTES // len(filler) + 1))  # just over, never finished
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 431 ")
