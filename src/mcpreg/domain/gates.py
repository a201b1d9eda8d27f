"""Promotion gates: checks outside the registry that a rollout waits for.

A gate is declared on an environment (its default gates, applying to every deployment
there) or on one rollout (the deploy or promote request's ``gates``, added to the
environment's). It has a ``name``, a ``kind`` and the ``points`` where it applies:

* ``deploy``: before a deployment is applied (the request waits as ``held``);
* ``step``: before each rollout step below 100%;
* ``promote``: before the final step to 100% (the promotion of the canary to stable).

Kinds:

* ``webhook``: a signed POST of the rollout's state to ``url`` (see ``domain.signing``);
  a 2xx answer within ``timeoutSeconds`` passes; anything else holds and is retried.
* ``testset``: the named test set is run against the version being rolled out; it passes
  when every case passes.

A failed check holds and is retried after ``retry.initialSeconds``, doubling each attempt
up to ``retry.maxSeconds`` (:func:`backoff`). Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mcpreg.domain.addresses import host_allowed, scheme_allowed
from mcpreg.errors import ValidationFailed

WEBHOOK, TESTSET = "webhook", "testset"
KINDS = (WEBHOOK, TESTSET)
DEPLOY, STEP, PROMOTE = "deploy", "step", "promote"
POINTS = (DEPLOY, STEP, PROMOTE)
PASS, FAIL, ERROR, RUNNING = "pass", "fail", "error", "running"
RESULTS = (PASS, FAIL, ERROR, RUNNING)

NAME_RULE = "1 to 63 lowercase letters, digits and dashes, starting with a letter or digit"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_TESTSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_URL = 2000
MAX_SECRET = 4096
MIN_SECRET = 8
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 120.0
DEFAULT_RETRY_INITIAL = 1.0
DEFAULT_RETRY_MAX = 60.0
MAX_RETRY = 3600.0
MAX_GATES = 20  # per environment, and per request
GATE_FIELDS = frozenset({"name", "kind", "points", "url", "secret", "timeoutSeconds", "testset", "retry"})


@dataclass(frozen=True)
class GateOutcome:
    """What one run of a test-set gate found (``services.testsets.gate.run_for_gate``)."""

    passed: bool
    detail: str
    run_id: int | None = None
    failing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Retry:
    """Wait ``initial`` seconds after a first failure, doubling each time, never over ``cap``."""

    initial: float = DEFAULT_RETRY_INITIAL
    cap: float = DEFAULT_RETRY_MAX

    def to_dict(self) -> dict[str, float]:
        return {"initialSeconds": self.initial, "maxSeconds": self.cap}


@dataclass(frozen=True)
class Gate:
    """One gate, without its secret (a webhook's secret is sealed and kept apart)."""

    name: str
    kind: str
    points: tuple[str, ...] = POINTS
    url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    testset: str | None = None
    retry: Retry = Retry()

    def applies_at(self, point: str) -> bool:
        return point in self.points


@dataclass(frozen=True)
class GateSpec:
    """A gate as asked for, with the webhook secret when one was given (None: keep the old one).

    ``uid`` and ``sealed`` are filled in once the secret is sealed (``services.gates.store``);
    the plaintext never shows in a ``repr``.
    """

    gate: Gate
    secret: str | None = field(default=None, repr=False)
    uid: str = ""
    sealed: str | None = field(default=None, repr=False)


def backoff(attempt: int, retry: Retry) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based) before the next one."""
    if attempt < 1:
        return 0.0
    exponent = min(attempt - 1, 32)
    return min(retry.initial * (2.0**exponent), retry.cap)


def point_of(steps_weights: Sequence[float], index: int) -> str:
    """The gate point of entering step ``index`` of a plan with these weights."""
    return PROMOTE if steps_weights[index] >= 100 else STEP


def check_name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value) or value.endswith("-"):
        raise ValidationFailed(f"a gate name is {NAME_RULE}", field=field, code="invalid_gate")
    return value


def _points(value: object, field: str) -> tuple[str, ...]:
    if value is None:
        return POINTS
    items: Iterable[object]
    if isinstance(value, str):
        items = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise ValidationFailed(f"points is a list of {', '.join(POINTS)}", field=field, code="invalid_gate")
    points: list[str] = []
    for i, item in enumerate(items):
        if item not in POINTS:
            raise ValidationFailed(
                f"unknown point {item!r}: a point is one of {', '.join(POINTS)}",
                field=f"{field}[{i}]",
                code="invalid_gate",
            )
        if item not in points:
            points.append(str(item))
    if not points:
        raise ValidationFailed("a gate applies at one point at least", field=field, code="invalid_gate")
    return tuple(p for p in POINTS if p in points)


def _seconds(value: object, field: str, default: float, low: float, high: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationFailed(
            f"{field.rsplit('.', 1)[-1]} is a number of seconds from {low:g} to {high:g}",
            field=field,
            code="invalid_gate",
        )
    return float(value)


def check_url(value: object, field: str, *, private_remotes: bool) -> str:
    """An absolute http(s) URL the registry may POST to (the private-remotes rule applies)."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        raise ValidationFailed("a webhook gate needs a url", field=field, code="invalid_gate")
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise ValidationFailed("url is not a valid URL", field=field, code="invalid_gate") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationFailed("url is an absolute http or https URL", field=field, code="invalid_gate")
    if parts.username or parts.password:
        raise ValidationFailed("url carries no user or password", field=field, code="invalid_gate")
    if not scheme_allowed(parts.scheme, private_remotes=private_remotes):
        raise ValidationFailed(
            "url is https (MCPREG_ALLOW_PRIVATE_REMOTES=1 allows http)", field=field, code="invalid_gate"
        )
    if not host_allowed(host, private_remotes=private_remotes):
        raise ValidationFailed(
            "url names a local or private host (MCPREG_ALLOW_PRIVATE_REMOTES=1 allows it)",
            field=field,
            code="invalid_gate",
        )
    return url


def _retry(value: object, field: str) -> Retry:
    if value is None:
        return Retry()
    if not isinstance(value, Mapping):
        raise ValidationFailed("retry is {initialSeconds, maxSeconds}", field=field, code="invalid_gate")
    for key in value:
        if key not in ("initialSeconds", "maxSeconds"):
            raise ValidationFailed(f"unknown field {key!r}", field=f"{field}.{key}", code="unknown_field")
    initial = _seconds(
        value.get("initialSeconds"), f"{field}.initialSeconds", DEFAULT_RETRY_INITIAL, 0.1, MAX_RETRY
    )
    cap = _seconds(
        value.get("maxSeconds"), f"{field}.maxSeconds", max(DEFAULT_RETRY_MAX, initial), 0.1, MAX_RETRY
    )
    if cap < initial:
        raise ValidationFailed(
            "retry.maxSeconds is at least retry.initialSeconds",
            field=f"{field}.maxSeconds",
            code="invalid_gate",
        )
    return Retry(initial, cap)


def parse_gate(
    body: object, *, name: str | None = None, prefix: str = "", private_remotes: bool = False
) -> GateSpec:
    """One gate from its JSON body; ``name`` given (from a URL path) or read from the body.

    Every refusal is ``invalid_gate`` (or ``unknown_field``) naming its field, under
    ``prefix`` (``gates[0].`` for a request's gates).
    """
    if not isinstance(body, Mapping):
        raise ValidationFailed(
            "a gate is a JSON object", field=prefix.rstrip(".") or None, code="invalid_gate"
        )
    for key in body:
        if key not in GATE_FIELDS:
            raise ValidationFailed(f"unknown field {key!r}", field=f"{prefix}{key}", code="unknown_field")
    if name is None:
        name = check_name(body.get("name"), f"{prefix}name")
    else:
        check_name(name, "name")
        if "name" in body and body["name"] != name:
            raise ValidationFailed(
                "name differs from the gate named in the path", field="name", code="invalid_gate"
            )
    kind = body.get("kind")
    if kind not in KINDS:
        raise ValidationFailed(
            f"kind is one of {', '.join(KINDS)}", field=f"{prefix}kind", code="invalid_gate"
        )
    points = _points(body.get("points"), f"{prefix}points")
    retry = _retry(body.get("retry"), f"{prefix}retry")
    if kind == WEBHOOK:
        if "testset" in body:
            raise ValidationFailed(
                "testset is for a testset gate", field=f"{prefix}testset", code="invalid_gate"
            )
        url = check_url(body.get("url"), f"{prefix}url", private_remotes=private_remotes)
        timeout = _seconds(
            body.get("timeoutSeconds"), f"{prefix}timeoutSeconds", DEFAULT_TIMEOUT, 0.1, MAX_TIMEOUT
        )
        secret = body.get("secret")
        if secret is not None and (
            not isinstance(secret, str) or not MIN_SECRET <= len(secret) <= MAX_SECRET
        ):
            raise ValidationFailed(
                f"secret is a string of {MIN_SECRET} to {MAX_SECRET} characters",
                field=f"{prefix}secret",
                code="invalid_gate",
            )
        gate = Gate(name, kind, points, url=url, timeout=timeout, retry=retry)
        return GateSpec(gate, secret)
    for key in ("url", "secret", "timeoutSeconds"):
        if key in body:
            raise ValidationFailed(
                f"{key} is for a webhook gate", field=f"{prefix}{key}", code="invalid_gate"
            )
    testset = body.get("testset")
    if not isinstance(testset, str) or not _TESTSET.fullmatch(testset):
        raise ValidationFailed(
            "a testset gate names its test set (letters, digits, '.', '_', '-')",
            field=f"{prefix}testset",
            code="invalid_gate",
        )
    return GateSpec(Gate(name, kind, points, testset=testset, retry=retry))


def parse_gates(value: object, *, private_remotes: bool = False) -> tuple[GateSpec, ...]:
    """A request's ``gates``: a list of gate objects, names unique, webhooks with a secret."""
    if not isinstance(value, list | tuple):
        raise ValidationFailed("gates is a list of gate objects", field="gates", code="invalid_gate")
    if len(value) > MAX_GATES:
        raise ValidationFailed(f"at most {MAX_GATES} gates", field="gates", code="invalid_gate")
    specs: list[GateSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        spec = parse_gate(item, prefix=f"gates[{i}].", private_remotes=private_remotes)
        if spec.gate.name in seen:
            raise ValidationFailed(
                f"two gates are named {spec.gate.name!r}", field=f"gates[{i}].name", code="invalid_gate"
            )
        if spec.gate.kind == WEBHOOK and spec.secret is None:
            raise ValidationFailed(
                "a webhook gate needs a secret", field=f"gates[{i}].secret", code="invalid_gate"
            )
        seen.add(spec.gate.name)
        specs.append(spec)
    return tuple(specs)


def gate_to_dict(gate: Gate) -> dict[str, Any]:
    """The stored JSON of a gate (no secret)."""
    body: dict[str, Any] = {"name": gate.name, "kind": gate.kind, "points": list(gate.points)}
    if gate.kind == WEBHOOK:
        body["url"], body["timeoutSeconds"] = gate.url, gate.timeout
    else:
        body["testset"] = gate.testset
    body["retry"] = gate.retry.to_dict()
    return body


def gate_from_dict(body: Mapping[str, Any]) -> Gate:
    """A stored gate back (trusted input: what ``gate_to_dict`` wrote)."""
    retry = body.get("retry") or {}
    return Gate(
        name=body["name"],
        kind=body["kind"],
        points=tuple(body.get("points") or POINTS),
        url=body.get("url"),
        timeout=float(body.get("timeoutSeconds") or DEFAULT_TIMEOUT),
        testset=body.get("testset"),
        retry=Retry(
            float(retry.get("initialSeconds", DEFAULT_RETRY_INITIAL)),
            float(retry.get("maxSeconds", DEFAULT_RETRY_MAX)),
        ),
    )
