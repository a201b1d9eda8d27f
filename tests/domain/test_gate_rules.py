"""The gate rules (``domain.gates``): parsing names the refused field, the private-remotes
rule applies to webhook URLs, points default to all three, the backoff doubles to its cap."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.gates import (
    POINTS,
    Gate,
    Retry,
    backoff,
    gate_from_dict,
    gate_to_dict,
    parse_gate,
    parse_gates,
    point_of,
)
from mcpreg.errors import ValidationFailed

HOOK = {"kind": "webhook", "url": "https://ci.example.com/gate", "secret": "s3cret-value"}


def refused(body: Any, field: str, code: str = "invalid_gate", **kwargs: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        if isinstance(body, list):
            parse_gates(body, **kwargs)
        else:
            parse_gate(body, name=kwargs.pop("name", "ci"), **kwargs)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_webhook_gate_defaults_to_every_point_ten_seconds_and_one_to_sixty_seconds_of_backoff() -> None:
    spec = parse_gate(HOOK, name="ci")
    assert spec.gate == Gate("ci", "webhook", POINTS, url=HOOK["url"], timeout=10.0, retry=Retry(1.0, 60.0))
    assert spec.secret == "s3cret-value"
    assert "s3cret" not in repr(spec)


def test_points_are_kept_in_their_order_without_repeats() -> None:
    spec = parse_gate({**HOOK, "points": ["promote", "step", "promote"]}, name="ci")
    assert spec.gate.points == ("step", "promote")
    assert parse_gate({**HOOK, "points": "deploy"}, name="ci").gate.points == ("deploy",)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**HOOK, "kind": "email"}, "kind"),
        ({**HOOK, "points": ["deploy", "later"]}, "points[1]"),
        ({**HOOK, "points": []}, "points"),
        ({**HOOK, "url": "ftp://ci.example.com/gate"}, "url"),
        ({**HOOK, "url": "not a url"}, "url"),
        ({**HOOK, "url": "https://user:pw@ci.example.com/"}, "url"),
        ({**HOOK, "url": "https://ci.example.com:99999/"}, "url"),
        ({**HOOK, "secret": "short"}, "secret"),
        ({**HOOK, "timeoutSeconds": 0}, "timeoutSeconds"),
        ({**HOOK, "timeoutSeconds": True}, "timeoutSeconds"),
        ({**HOOK, "retry": {"initialSeconds": 10, "maxSeconds": 5}}, "retry.maxSeconds"),
        ({**HOOK, "testset": "smoke"}, "testset"),
        ({"kind": "testset"}, "testset"),
        ({"kind": "testset", "testset": "smoke", "url": "https://x.example"}, "url"),
    ],
)
def test_a_bad_gate_is_refused_naming_its_field(body: dict[str, Any], field: str) -> None:
    refused(body, field)


def test_an_unknown_key_is_refused_as_unknown_field() -> None:
    refused({**HOOK, "colour": "red"}, "colour", code="unknown_field")
    refused({**HOOK, "retry": {"jitter": 1}}, "retry.jitter", code="unknown_field")


def test_a_bad_name_and_a_name_other_than_the_paths_are_refused() -> None:
    refused(HOOK, "name", name="Not_A_Name")
    refused({**HOOK, "name": "other"}, "name")


def test_a_private_webhook_needs_private_remotes() -> None:
    for url in ("http://ci.example.com/gate", "https://127.0.0.1/gate", "https://localhost/gate"):
        refused({**HOOK, "url": url}, "url")
        assert parse_gate({**HOOK, "url": url}, name="ci", private_remotes=True).gate.url == url


def test_a_requests_gates_name_their_index_need_a_secret_and_unique_names() -> None:
    refused([{**HOOK, "name": "ci"}, {"kind": "email", "name": "b"}], "gates[1].kind")
    refused([{"kind": "webhook", "url": HOOK["url"], "name": "ci"}], "gates[0].secret")
    refused([{**HOOK, "name": "ci"}, {**HOOK, "name": "ci"}], "gates[1].name")
    refused([HOOK], "gates[0].name")
    with pytest.raises(ValidationFailed) as caught:
        parse_gates({"not": "a list"})
    assert (caught.value.code, caught.value.field) == ("invalid_gate", "gates")


def test_a_stored_gate_reads_back_as_it_was() -> None:
    for body in (
        HOOK,
        {"kind": "testset", "testset": "smoke", "points": ["promote"], "retry": {"maxSeconds": 5}},
    ):
        gate = parse_gate(body, name="ci").gate
        assert gate_from_dict(gate_to_dict(gate)) == gate
        assert "secret" not in gate_to_dict(gate)


def test_the_final_100_percent_step_is_the_promote_point() -> None:
    assert [point_of([10, 50, 100], i) for i in range(3)] == ["step", "step", "promote"]


@given(initial=st.floats(0.1, 100), cap=st.floats(0.1, 3600), attempt=st.integers(1, 200))
def test_the_backoff_doubles_from_initial_and_never_passes_the_cap(
    initial: float, cap: float, attempt: int
) -> None:
    retry = Retry(initial, max(cap, initial))
    wait = backoff(attempt, retry)
    assert initial <= wait <= retry.cap or wait == retry.cap
    assert wait <= retry.cap
    assert backoff(attempt + 1, retry) == min(retry.cap, 2 * wait) or wait == retry.cap
    assert backoff(1, retry) == min(initial, retry.cap)
