"""The pure rules of alerts: parsing a rule field by field, when a condition holds, the retry delays."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.alerts import (
    DEFAULT_MIN_REQUESTS,
    DEFAULT_WINDOW,
    RETRY_CAP,
    Rule,
    error_rate_breached,
    health_breached,
    parse_rule,
    retry_delay,
)
from mcpreg.errors import ValidationFailed

URL = "https://hooks.example/alerts"
SECRET = "a-long-enough-secret"


def parse(body: dict[str, Any], *, private: bool = False, creating: bool = True) -> Rule:
    return parse_rule(body, private_remotes=private, creating=creating).rule


def test_an_error_rate_rule_gets_its_defaults_and_keeps_only_its_own_keys() -> None:
    rule = parse({"kind": "errorRate", "url": URL, "secret": SECRET, "threshold": 0.05})
    assert (rule.window, rule.min_requests, rule.state, rule.timeout) == (
        DEFAULT_WINDOW,
        DEFAULT_MIN_REQUESTS,
        None,
        10.0,
    )
    assert set(rule.to_dict()) == {
        "kind",
        "url",
        "server",
        "threshold",
        "window",
        "minRequests",
        "timeoutSeconds",
    }
    health = parse({"kind": "health", "url": URL, "secret": SECRET})
    assert health.state == "unhealthy" and "threshold" not in health.to_dict()


def test_a_replace_may_leave_the_secret_out_a_create_may_not() -> None:
    spec = parse_rule({"kind": "rollback", "url": URL}, private_remotes=False, creating=False)
    assert spec.secret is None
    with pytest.raises(ValidationFailed) as refused:
        parse({"kind": "rollback", "url": URL})
    assert refused.value.field == "secret"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "errorRate", "url": "http://hooks.example/a", "threshold": 0.1}, "url"),  # http off here
        ({"kind": "errorRate", "url": "https://127.0.0.1/a", "threshold": 0.1}, "url"),  # a private host
        ({"kind": "errorRate", "url": URL, "threshold": 0}, "threshold"),
        ({"kind": "errorRate", "url": URL, "threshold": 0.1, "window": "2h"}, "window"),
        ({"kind": "errorRate", "url": URL, "threshold": 0.1, "minRequests": True}, "minRequests"),
        ({"kind": "rollback", "url": URL, "window": "5m"}, "window"),
        ({"kind": "health", "url": URL, "timeoutSeconds": 0}, "timeoutSeconds"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse({"secret": SECRET, **body})
    assert (refused.value.code, refused.value.field) == ("validation_failed", field)


def test_private_remotes_allow_http_and_local_receivers() -> None:
    rule = parse({"kind": "rollback", "url": "http://127.0.0.1:9000/hook", "secret": SECRET}, private=True)
    assert rule.url == "http://127.0.0.1:9000/hook"


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_an_error_rate_is_judged_only_on_enough_requests(requests: int, errors: int) -> None:
    rule = Rule("errorRate", URL, threshold=0.1, window=60, min_requests=50)
    errors = min(errors, requests)
    verdict = error_rate_breached(rule, requests, errors)
    if requests < 50:
        assert verdict is None
    else:
        assert verdict == (errors / requests > 0.1)


def test_a_health_rule_holds_at_its_state_or_worse() -> None:
    degraded, unhealthy = Rule("health", URL, state="degraded"), Rule("health", URL, state="unhealthy")
    assert [health_breached(degraded, s) for s in ("healthy", "degraded", "unhealthy", None)] == [
        False,
        True,
        True,
        False,
    ]
    assert [health_breached(unhealthy, s) for s in ("healthy", "degraded", "unhealthy")] == [
        False,
        False,
        True,
    ]


@given(st.integers(1, 1000))
def test_retry_delays_double_from_one_second_and_never_pass_the_cap(attempt: int) -> None:
    assert retry_delay(1) == 1.0
    assert retry_delay(attempt) <= RETRY_CAP
    assert retry_delay(attempt + 1) >= retry_delay(attempt)
