"""The gateway's upstream pool (``gateway.connections``) against small HTTP/1.1 servers on
loopback: connections are kept and reused, never reused when their answer did not end or
their server closed them, and every failure is ``UpstreamUnreachable`` or ``UpstreamTimedOut``
within its timeout."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mcpreg.gateway.answers import (
    READ_BUFFER,
    Endpoint,
    Origin,
    Timeouts,
    UpstreamAnswer,
    UpstreamTimedOut,
    UpstreamUnreachable,
    request_head,
)
from mcpreg.gateway.connections import UpstreamPool
from mcpreg.gateway.guard import Destination, endpoint, endpoint_of

WAIT = 5.0  # the longest any step of these tests waits
TIMEOUTS = Timeouts(connect=WAIT, read=WAIT, pool=WAIT)
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Server"], Awaitable[None]]


@dataclass
class Server:
    """A loopback server: how many connections it accepted, what it read, when they closed."""

    port: int = 0
    accepted: int = 0
    heads: list[bytes] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def endpoint(self, path: bytes = b"/mcp") -> Endpoint:
        return Endpoint(Origin("http", "127.0.0.1", self.port), path, f"127.0.0.1:{self.port}".encode())


async def read_request(reader: asyncio.StreamReader, server: Server) -> bool:
    """One request (head and a content-length body); False at the end of the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return False
    server.heads.append(head)
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return True


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Server]:
    server = Server()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.accepted += 1
        try:
            await handler(reader, writer, server)
        finally:
            writer.close()
            server.closed.set()

    listening = await asyncio.start_server(connected, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server


async def answer_every_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server
) -> None:
    while await read_request(reader, server):
        writer.write(OK)
        await writer.drain()


def pool(**limits: int) -> UpstreamPool:
    return UpstreamPool(
        max_connections=limits.get("max_connections", 10), max_idle=limits.get("max_idle", 10)
    )


def test_requests_one_after_another_reuse_one_kept_alive_connection() -> None:
    async def scenario() -> None:
        async with serving(answer_every_request) as server, pool() as upstreams:
            for _ in range(3):
                answer = await upstreams.request(
                    "POST", server.endpoint(), [("accept", "*/*")], b"{}", TIMEOUTS
                )
                assert (answer.status_code, await answer.read()) == (200, b"{}")
            assert server.accepted == 1
            assert server.heads[0].startswith(b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:")
            assert b"content-length: 2\r\n" in server.heads[0]

    asyncio.run(scenario())


def test_a_connection_its_server_closed_while_idle_is_not_used_again() -> None:
    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        if await read_request(reader, server):
            writer.write(OK)
            await writer.drain()

    async def scenario() -> None:
        async with serving(answer_once) as server, pool() as upstreams:
            first = await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)
            assert await first.read() == b"{}"
            await asyncio.wait_for(server.closed.wait(), WAIT)
            await asyncio.sleep(0)  # let the loop deliver the close to the idle connection
            second = await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)
            assert await second.read() == b"{}"
            assert server.accepted == 2

    asyncio.run(scenario())


def test_an_answer_closed_before_its_end_closes_its_connection() -> None:
    release = asyncio.Event()

    async def stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await read_request(reader, server)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        writer.write(b"8\r\ndata: 1\n\r\n")
        await writer.drain()
        await release.wait()
        assert await reader.read() == b""  # the client hung up before the stream ended

    async def scenario() -> None:
        async with serving(stream) as server, pool() as upstreams:
            answer = await upstreams.request("GET", server.endpoint(), [], None, TIMEOUTS)
            assert await answer.next_chunk() == b"data: 1\n"
            answer.aclose()
            release.set()
            await asyncio.wait_for(server.closed.wait(), WAIT)
            assert b"content-length" not in server.heads[0]  # a GET sends no body

    asyncio.run(scenario())


def test_a_stream_passes_each_chunk_on_before_the_next_is_sent() -> None:
    async def scenario() -> None:
        second = asyncio.Event()

        async def stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
            await read_request(reader, server)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\none\r\n")
            await writer.drain()
            await second.wait()
            writer.write(b"3\r\ntwo\r\n0\r\n\r\n")
            await writer.drain()
            await read_request(reader, server)

        async with serving(stream) as server, pool() as upstreams:
            answer = await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)
            assert await answer.next_chunk() == b"one"
            second.set()
            assert [await answer.next_chunk(), await answer.next_chunk()] == [b"two", None]

    asyncio.run(scenario())


def test_an_upstream_that_does_not_answer_in_time_times_out_and_loses_its_connection() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await read_request(reader, server)
        assert await reader.read() == b""  # nothing sent; the client closes

    async def scenario() -> None:
        async with serving(silent) as server, pool() as upstreams:
            impatient = Timeouts(connect=WAIT, read=0.2, pool=WAIT)
            with pytest.raises(UpstreamTimedOut):
                await upstreams.request("POST", server.endpoint(), [], b"{}", impatient)
            await asyncio.wait_for(server.closed.wait(), WAIT)

    asyncio.run(scenario())


def test_a_refused_connection_is_unreachable() -> None:
    async def scenario() -> None:
        async with serving(answer_every_request) as server:
            port = server.port
        async with pool() as upstreams:
            closed = Endpoint(Origin("http", "127.0.0.1", port), b"/mcp", b"x")
            with pytest.raises(UpstreamUnreachable) as raised:
                await upstreams.request("POST", closed, [], b"{}", TIMEOUTS)
            assert not isinstance(raised.value, UpstreamTimedOut)

    asyncio.run(scenario())


def test_an_answer_that_is_not_http_is_unreachable() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await read_request(reader, server)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        async with serving(garbage) as server, pool() as upstreams:
            with pytest.raises(UpstreamUnreachable):
                await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)

    asyncio.run(scenario())


def test_an_upstream_that_closes_mid_answer_is_unreachable() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await read_request(reader, server)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}")
        await writer.drain()

    async def scenario() -> None:
        async with serving(cut) as server, pool() as upstreams:
            answer = await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)
            with pytest.raises(UpstreamUnreachable):
                await answer.read()

    asyncio.run(scenario())


def test_a_body_larger_than_the_read_buffer_is_read_whole_and_a_stream_of_it_resumes() -> None:
    big = b"x" * (READ_BUFFER * 3)
    sized = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(big), big)

    async def large(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        while await read_request(reader, server):
            writer.write(sized)
            await writer.drain()

    async def scenario() -> None:
        async with serving(large) as server, pool() as upstreams:
            whole = await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)
            assert await whole.read() == big
            streamed = await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)
            await asyncio.sleep(0.05)  # the upstream fills the buffer and is paused
            received = b""
            while (chunk := await streamed.next_chunk()) is not None:
                received += chunk
            assert received == big
            assert server.accepted == 1

    asyncio.run(scenario())


def test_a_body_that_ends_with_the_connection_is_read_whole() -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await read_request(reader, server)
        writer.write(b'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{"a": 1}')
        await writer.drain()

    async def scenario() -> None:
        async with serving(until_close) as server, pool() as upstreams:
            answer = await upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS)
            assert await answer.read() == b'{"a": 1}'

    asyncio.run(scenario())


def test_a_header_with_a_line_break_is_never_sent() -> None:
    async def scenario() -> None:
        async with serving(answer_every_request) as server, pool() as upstreams:
            injected = [("x-api-key", "secret\r\nx-admin: 1")]
            with pytest.raises(UpstreamUnreachable):
                await upstreams.request("POST", server.endpoint(), injected, b"{}", TIMEOUTS)
            assert server.heads == []

    asyncio.run(scenario())


def test_past_max_connections_a_request_waits_for_a_free_one_within_the_pool_timeout() -> None:
    async def scenario() -> None:
        release = asyncio.Event()

        async def slow_first(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server
        ) -> None:
            while await read_request(reader, server):
                if len(server.heads) == 1:
                    await release.wait()
                writer.write(OK)
                await writer.drain()

        async with serving(slow_first) as server, pool(max_connections=1) as upstreams:
            first = asyncio.create_task(upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS))
            await asyncio.sleep(0.05)  # the first holds the only connection
            hurried = Timeouts(connect=WAIT, read=WAIT, pool=0.1)
            with pytest.raises(UpstreamTimedOut):
                await upstreams.request("POST", server.endpoint(), [], b"{}", hurried)
            waiting = asyncio.create_task(upstreams.request("POST", server.endpoint(), [], b"{}", TIMEOUTS))
            release.set()
            assert await (await first).read() == b"{}"
            assert await (await waiting).read() == b"{}"
            assert server.accepted == 1

    asyncio.run(scenario())


def test_user_info_in_an_upstream_url_is_sent_as_basic_credentials_unless_a_header_is_configured() -> None:
    where = asyncio.run(endpoint("http://al%20ice:s%3Acret@127.0.0.1:8000/mcp?x=1", private_remotes=True))
    assert (where.target, where.host) == (b"/mcp?x=1", b"127.0.0.1:8000")
    head = request_head("POST", where, [("accept", "*/*")], b"{}")
    assert head.startswith(b"POST /mcp?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8000\r\n")
    assert b"authorization: Basic " + base64.b64encode(b"al ice:s:cret") + b"\r\n" in head
    configured = request_head("POST", where, [("Authorization", "Bearer t")], b"{}")
    assert configured.count(b"uthorization") == 1 and b"Authorization: Bearer t\r\n" in configured


class _Carrier:
    """What an answer arrives on, counting what the answer asked of it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.paused = False
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False


def test_an_answer_that_ends_past_the_read_buffer_lets_its_connection_read_the_next_one() -> None:
    carrier = _Carrier()
    try:
        answer = UpstreamAnswer(carrier, None)
        answer._on_head(200)
        answer._on_body(b"x" * (READ_BUFFER + 1))
        assert carrier.paused  # a slow reader holds its upstream back
        answer._on_complete()
        assert not carrier.paused  # but the connection is handed on reading
        assert carrier.loop.run_until_complete(answer.read()) == b"x" * (READ_BUFFER + 1)
        assert not carrier.closed
    finally:
        carrier.loop.close()


def _self_signed(name: str, directory: Path) -> tuple[Path, Path]:
    """A certificate for ``name`` that is its own authority, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_an_https_upstream_is_reached_by_the_checked_address_with_its_name_for_tls(tmp_path: Path) -> None:
    cert, key = _self_signed("mcp.example.test", tmp_path)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    names: list[str | None] = []
    served.sni_callback = lambda _socket, name, _context: names.append(name)
    trusting = ssl.create_default_context(cafile=str(cert))

    async def scenario() -> None:
        answering = await asyncio.start_server(
            lambda r, w: answer_every_request(r, w, Server()), "127.0.0.1", 0, ssl=served
        )
        port = answering.sockets[0].getsockname()[1]
        async with answering, UpstreamPool(max_connections=4, max_idle=4, tls=trusting) as upstreams:
            pinned = Endpoint(
                Origin("https", "127.0.0.1", port, "mcp.example.test"), b"/mcp", b"mcp.example.test"
            )
            answer = await upstreams.request("POST", pinned, [], b"{}", TIMEOUTS)
            assert (answer.status_code, await answer.read()) == (200, b"{}")
            assert names == ["mcp.example.test"]
            impostor = Endpoint(Origin("https", "127.0.0.1", port, "other.example.test"), b"/mcp", b"x")
            with pytest.raises(UpstreamUnreachable, match="SSLCertVerificationError"):  # not its name
                await upstreams.request("POST", impostor, [], b"{}", TIMEOUTS)

    asyncio.run(scenario())


def test_a_destination_pinned_to_its_checked_address_keeps_its_name_for_host_and_tls() -> None:
    pinned = Destination(
        httpx2.URL("https://93.184.216.34:8443/mcp?a=1"),
        headers={"host": "mcp.example.com:8443"},
        extensions={"sni_hostname": "mcp.example.com"},
    )
    assert endpoint_of(pinned) == Endpoint(
        Origin("https", "93.184.216.34", 8443, "mcp.example.com"), b"/mcp?a=1", b"mcp.example.com:8443"
    )
    assert endpoint_of(Destination(httpx2.URL("http://10.0.0.7/mcp"))) == Endpoint(
        Origin("http", "10.0.0.7", 80), b"/mcp", b"10.0.0.7"
    )
