"""``services.webhooks.deliver`` against a real receiver: what a gate (or an alert) sees of a
2xx, an error status, a redirect, a refused connection, a timeout; the secret never logged."""

from __future__ import annotations

import logging
import socket
import time

import orjson
import pytest

from mcpreg.domain.signing import verify
from mcpreg.services.webhooks import body_of, deliver
from tests.support.receivers import receiving

SECRET = "webhook-secret-for-tests"


def test_a_2xx_is_ok_and_the_body_is_the_signed_sorted_json() -> None:
    with receiving(202) as receiver:
        sent = deliver(receiver.url, "gate", {"b": 2, "a": 1}, SECRET, 5.0)
    assert (sent.ok, sent.status, sent.error) == (True, 202, None)
    got = receiver.received[0]
    assert got.body == body_of({"a": 1, "b": 2}) == b'{"a":1,"b":2}'
    assert orjson.loads(got.body) == {"a": 1, "b": 2}
    assert got.headers["X-Mcpreg-Delivery"] == sent.delivery_id
    assert verify(SECRET, got.body, got.headers["X-Mcpreg-Signature"], now=time.time())
    assert sent.elapsed_ms >= 0


@pytest.mark.parametrize("status", [301, 404, 500])
def test_anything_but_a_2xx_is_not_ok_and_a_redirect_is_not_followed(status: int) -> None:
    with receiving(status) as receiver:
        sent = deliver(receiver.url, "gate", {}, SECRET, 5.0)
    assert (sent.ok, sent.status, sent.error) == (False, status, f"HTTP {status}")
    assert len(receiver.received) == 1


def test_a_refused_connection_and_a_timeout_answer_a_delivery_never_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there
    refused = deliver(f"http://127.0.0.1:{port}/x?token=abc", "gate", {}, SECRET, 2.0)
    assert (refused.ok, refused.status) == (False, None)
    assert refused.error is not None and refused.error.startswith("connection failed")
    with receiving(200) as receiver:
        receiver.hold()
        slow = deliver(receiver.url, "gate", {}, SECRET, 0.2)
        receiver.release()
    assert (slow.ok, slow.status, slow.error) == (False, None, "timed out after 0.2 s")
    assert SECRET not in caplog.text and "token=abc" not in caplog.text
    assert deliver("not a url", "gate", {}, SECRET, 1.0).ok is False
