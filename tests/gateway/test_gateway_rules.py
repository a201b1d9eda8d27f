"""The gateway's pure parts: the private-address rule, the remote-URL rule, sealed sessions,
outcomes read from answers."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.crypto import KeyRing
from mcpreg.domain.addresses import address_allowed, host_allowed, is_private_address, scheme_allowed
from mcpreg.domain.serverjson import validation_errors
from mcpreg.errors import ConfigurationError
from mcpreg.gateway.outcome import SseReader, of_json, of_message
from mcpreg.gateway.sessions import PinnedSession, SessionSeal
from mcpreg.settings import Settings
from tests.support.upstreams import remote_doc


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.9.9.9",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::",
        "224.0.0.1",
    ],
)
def test_loopback_private_link_local_and_mapped_addresses_are_private(address: str) -> None:
    parsed = ipaddress.ip_address(address)
    assert is_private_address(parsed)
    assert not address_allowed(parsed, private_remotes=False)
    assert address_allowed(parsed, private_remotes=True)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert not is_private_address(ipaddress.ip_address(address))


def test_local_names_and_plain_http_need_private_remotes() -> None:
    for host in ("localhost", "api.localhost", "127.0.0.1", "[::1]", "10.0.0.7"):
        assert not host_allowed(host, private_remotes=False)
        assert host_allowed(host, private_remotes=True)
    assert host_allowed("mcp.example.com", private_remotes=False)
    assert not scheme_allowed("http", private_remotes=False)
    assert scheme_allowed("http", private_remotes=True)
    assert scheme_allowed("https", private_remotes=False)


def test_a_loopback_http_remote_is_refused_unless_private_remotes_are_allowed() -> None:
    doc = remote_doc("1.0.0", "http://127.0.0.1:8123/mcp")
    refused = [error["rule"] for error in validation_errors(doc)]
    assert refused == ["remote-url"]
    assert validation_errors(doc, private_remotes=True) == []
    assert validation_errors(remote_doc("1.0.0", "https://mcp.example.com/mcp")) == []


def _seal() -> SessionSeal:
    return SessionSeal(KeyRing([("k1", b"\x01" * 32), ("k0", b"\x02" * 32)]))


def test_a_sealed_session_opens_on_any_replica_with_the_same_ring_and_nowhere_else() -> None:
    pinned = PinnedSession("1.1.0", "r-1", "upstream-sid", "client-7")
    token = _seal().seal(pinned, server="io.github.acme/echo", environment="production")
    assert _seal().open(token, server="io.github.acme/echo", environment="production") == pinned
    assert "upstream-sid" not in token and "client-7" not in token and "1.1.0" not in token
    # another server or environment, a changed byte, another ring: not a session here
    assert _seal().open(token, server="io.github.acme/other", environment="production") is None
    assert _seal().open(token, server="io.github.acme/echo", environment="staging") is None
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert _seal().open(tampered, server="io.github.acme/echo", environment="production") is None
    other = SessionSeal(KeyRing([("k1", b"\x03" * 32)]))
    assert other.open(token, server="io.github.acme/echo", environment="production") is None
    assert _seal().open("not-a-session", server="io.github.acme/echo", environment="production") is None


def test_an_old_key_still_opens_sessions_after_rotation() -> None:
    old = SessionSeal(KeyRing([("k0", b"\x02" * 32)]))
    token = old.seal(PinnedSession("1.0.0", None, None, None), server="a/b", environment="dev")
    assert _seal().open(token, server="a/b", environment="dev") == PinnedSession("1.0.0", None, None, None)


def test_outcomes_are_read_from_json_rpc_answers() -> None:
    assert of_message({"jsonrpc": "2.0", "id": 1, "result": {"content": []}}) == "ok"
    assert of_message({"jsonrpc": "2.0", "id": 1, "result": {"isError": True}}) == "tool_error"
    assert of_message({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601}}) == "jsonrpc_error"
    assert of_message([{"id": 1, "result": {}}, {"id": 2, "result": {"isError": True}}]) == "tool_error"
    assert of_json(b"not json") == "ok"


def test_an_sse_stream_is_read_for_its_outcome_across_chunk_boundaries() -> None:
    stream = (
        b'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n'
        b'event: message\r\ndata: {"jsonrpc":"2.0","id":3,"result":{"isError":true,"content":[]}}\r\n\r\n'
    )
    reader = SseReader()
    for start in range(0, len(stream), 7):
        reader.feed(stream[start : start + 7])
    assert reader.close() == "tool_error"
    ok = SseReader()
    ok.feed(b'data: {"jsonrpc":"2.0","id":3,"result":{}}')  # no blank line before the end
    assert ok.close() == "ok"


def test_private_remotes_are_allowed_in_development_mode_unless_turned_off() -> None:
    base = {"MCPREG_DATABASE_URL": "sqlite:///x.db"}
    assert Settings.from_env(base).allow_private_remotes is False
    assert Settings.from_env({**base, "MCPREG_DEV": "1"}).allow_private_remotes is True
    assert (
        Settings.from_env(
            {**base, "MCPREG_DEV": "1", "MCPREG_ALLOW_PRIVATE_REMOTES": "0"}
        ).allow_private_remotes
        is False
    )
    assert Settings.from_env({**base, "MCPREG_ALLOW_PRIVATE_REMOTES": "1"}).allow_private_remotes is True


def test_gateway_timeouts_are_seconds_and_a_bad_one_names_its_variable() -> None:
    base = {"MCPREG_DATABASE_URL": "sqlite:///x.db"}
    read = Settings.from_env({**base, "MCPREG_GATEWAY_TIMEOUT": "2.5", "MCPREG_GATEWAY_CONNECT_TIMEOUT": "1"})
    assert (read.gateway_timeout, read.gateway_connect_timeout) == (2.5, 1.0)
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({**base, "MCPREG_GATEWAY_TIMEOUT": "soon"})
    assert refused.value.code == "configuration_error" and refused.value.field == "MCPREG_GATEWAY_TIMEOUT"


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_and_its_ipv6_mapped_form_get_the_same_verdict(
    address: ipaddress.IPv4Address,
) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert is_private_address(mapped) == is_private_address(address)
    assert host_allowed(f"[{mapped}]", private_remotes=False) == host_allowed(
        str(address), private_remotes=False
    )


_text = st.text(max_size=40)


@given(_text, st.none() | _text, st.none() | _text, st.none() | _text, _text, _text)
def test_any_pinned_session_opens_to_itself_and_only_where_it_was_sealed(
    version: str, rollout: str | None, upstream: str | None, key: str | None, server: str, environment: str
) -> None:
    seal = _seal()
    pinned = PinnedSession(version, rollout, upstream, key)
    token = seal.seal(pinned, server=server, environment=environment)
    assert seal.open(token, server=server, environment=environment) == pinned
    assert seal.open(token, server=server + "x", environment=environment) is None
