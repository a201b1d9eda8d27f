"""Real answers of a running app validate against its OpenAPI document.

One scenario drives every ``/api`` operation at least once (publish, channels,
configuration, environments, deploys, a staged rollout, approval, rollback, promotion,
tokens, the journal) and some refusals. Every response on the way is checked by a client
hook against the document's response for its operation and status: the success body
against its model's schema (which forbids unknown keys), a refusal against problem+json
with the ``code`` values the document lists for that status. The test then asserts that
every operation answered with success at least once, so every answer schema was exercised.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from mcpreg.api.app import create_app
from mcpreg.api.openapi import document
from mcpreg.services.mirror import sync
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS, make_token
from tests.support.inprocess import InProcess
from tests.support.upstream_registry import BASE, FakeUpstream

NAME = "io.github.acme/weather"
SERVER = f"/api/servers/{NAME}"
DEV_TARGET = f"/api/environments/dev/servers/{NAME}"


def _draft(version: str, **extra: Any) -> dict[str, Any]:
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": NAME,
        "description": "Weather forecasts",
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@acme/weather-mcp",
                "version": version,
                "transport": {"type": "stdio"},
                "environmentVariables": [{"name": "API_KEY", "isRequired": True, "isSecret": True}],
            }
        ],
        **extra,
    }


class Conformance:
    """Checks each response against the document; remembers which operations succeeded."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.components = {"components": doc["components"]}
        self.succeeded: set[tuple[str, str]] = set()
        self.checked = 0
        templates = []
        for path in doc["paths"]:
            pattern = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")
            templates.append((path.count("{"), path, pattern))
        self.templates = sorted(templates)  # fewest parameters first: literal segments win

    def template(self, method: str, path: str) -> str:
        for _count, template, pattern in self.templates:
            if pattern.match(path) and method.lower() in self.doc["paths"][template]:
                return template
        raise AssertionError(f"{method} {path} is no operation of the document")

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        template = self.template(request.method, request.url.path)
        operation = self.doc["paths"][template][request.method.lower()]
        where = f"{request.method} {request.url.path} -> {response.status_code}"
        described = operation["responses"].get(str(response.status_code))
        assert described is not None, f"{where}: status not in the document: {response.text}"
        content = described.get("content")
        if content is None:
            assert response.content == b"", where
        else:
            media = response.headers["content-type"].split(";")[0]
            assert media in content, f"{where}: {media} not in {list(content)}"
            schema = {**self.components, **content[media]["schema"]}
            errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
            assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"
        if response.status_code < 300:
            self.succeeded.add((request.method, template))
        self.checked += 1


@pytest.fixture
def checked(app_server: InProcess) -> Conformance:
    return Conformance(document(app_server.app.routes))


@pytest.fixture
def admin(app_server: InProcess, admin_token: str, checked: Conformance) -> Iterator[httpx.Client]:
    with app_server.client(admin_token, event_hooks={"response": [checked]}) as client:
        yield client


@pytest.fixture
def anonymous(app_server: InProcess, checked: Conformance) -> Iterator[httpx.Client]:
    with app_server.client(event_hooks={"response": [checked]}) as client:
        yield client


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def _releases(admin: httpx.Client) -> None:
    _ok(admin.post(f"{SERVER}/drafts", json=_draft("1.0.0")), 201)
    _ok(admin.get(f"{SERVER}/versions"))
    _ok(admin.get(f"{SERVER}/versions/1.0.0"))
    _ok(admin.put(f"{SERVER}/versions/1.0.0", json=_draft("1.0.0", title="Weather")))
    _ok(admin.post(f"{SERVER}/versions/1.0.0/publish"))
    _ok(admin.post(f"{SERVER}/versions/1.0.0/duplicate", json={"version": "1.1.0"}), 201)
    _ok(admin.post(f"{SERVER}/versions/1.1.0/publish"))
    _ok(admin.post(f"{SERVER}/drafts", json=_draft("2.0.0-rc.1")), 201)
    _ok(admin.post(f"{SERVER}/versions/2.0.0-rc.1/publish"))
    _ok(admin.put(f"{SERVER}/channels/next", json={"version": "2.0.0-rc.1"}))
    _ok(admin.put(f"{SERVER}/channels/beta", json={"version": "1.1.0"}))
    _ok(admin.get(f"{SERVER}/channels"))
    _ok(admin.get(f"{SERVER}/channels/next"))
    _ok(admin.delete(f"{SERVER}/channels/beta"), 204)
    assert _ok(admin.get(f"{SERVER}/resolve", params={"range": "^1.0.0"}))["version"] == "1.1.0"
    assert _ok(admin.get(f"{SERVER}/diff", params={"from": "1.0.0", "to": "next"}))["changes"]


def _configuration(admin: httpx.Client) -> None:
    _ok(admin.put(f"{SERVER}/variables/LOG_LEVEL", json={"value": "info"}), 201)
    _ok(admin.put(f"{SERVER}/variables/LOG_LEVEL", json={"value": "debug"}))
    _ok(admin.put(f"{SERVER}/variables/REGION", params={"environment": "dev"}, json={"value": "eu"}), 201)
    _ok(admin.put(f"{SERVER}/variables/GONE", params={"version": "1.0.0"}, json={"value": "x"}), 201)
    _ok(admin.get(f"{SERVER}/variables"))
    _ok(admin.get(f"{SERVER}/variables/LOG_LEVEL"))
    _ok(admin.delete(f"{SERVER}/variables/GONE", params={"version": "1.0.0"}), 204)
    _ok(admin.put(f"{SERVER}/secrets/API_KEY", json={"value": "sk-test"}), 201)
    _ok(admin.put(f"{SERVER}/secrets/OLD_KEY", json={"value": "sk-old"}), 201)
    _ok(admin.get(f"{SERVER}/secrets"))
    _ok(admin.get(f"{SERVER}/secrets/API_KEY"))
    _ok(admin.delete(f"{SERVER}/secrets/OLD_KEY"), 204)


def _environments(admin: httpx.Client) -> None:
    _ok(admin.get("/api/environments"))
    _ok(admin.post("/api/environments", json={"name": "qa", "requiresApproval": True}), 201)
    _ok(admin.get("/api/environments/qa"))
    _ok(admin.patch("/api/environments/qa", json={"description": "the QA lab", "allowPrereleases": True}))


def _rollouts(admin: httpx.Client, approver: httpx.Client) -> None:
    deploys = "/api/environments/dev/deployments"
    _ok(admin.post(deploys, json={"server": NAME, "version": "1.0.0"}), 201)
    _ok(
        admin.post(
            deploys,
            json={"server": NAME, "version": "1.1.0", "strategy": "staged", "steps": "5:10m,25:manual"},
        ),
        201,
    )
    _ok(admin.get(f"{DEV_TARGET}/rollout"))
    _ok(admin.post(f"{DEV_TARGET}/rollout/pause"))
    _ok(admin.post(f"{DEV_TARGET}/rollout/resume", json={"notes": "go on"}))
    _ok(admin.post(f"{DEV_TARGET}/rollout/promote"))
    resolved = _ok(admin.get(f"{DEV_TARGET}/resolve", params={"client": "client-1"}))
    assert resolved["config"]["secrets"]["API_KEY"]["value"] == "********"
    _ok(admin.post(f"{DEV_TARGET}/rollout/abort", json={"notes": "enough"}))
    _ok(admin.post(deploys, json={"server": NAME, "version": "1.1.0", "notes": "at once"}), 201)
    _ok(admin.post(f"{DEV_TARGET}/rollback", json={"notes": "back"}))
    _ok(admin.get(deploys, params={"server": NAME}))
    first = _ok(admin.get(deploys, params={"state": "applied"}))["deployments"][-1]["id"]
    _ok(admin.get(f"{deploys}/{first}"))
    _ok(admin.post(f"{SERVER}/versions/1.0.0/promote", json={"from": "dev"}), 201)
    waiting = _ok(
        admin.post("/api/environments/qa/deployments", json={"server": NAME, "version": "1.0.0"}), 201
    )
    assert waiting["deployment"]["state"] == "pending_approval"
    _ok(approver.post(f"/api/environments/qa/deployments/{waiting['deployment']['id']}/approve"))
    scheduled = {"server": NAME, "version": "1.1.0", "scheduled_at": "2999-01-01T00:00:00Z"}
    later = _ok(admin.post("/api/environments/qa/deployments", json=scheduled), 201)
    _ok(
        admin.post(
            f"/api/environments/qa/deployments/{later['deployment']['id']}/cancel", json={"notes": "no"}
        )
    )
    _ok(admin.get(f"{SERVER}/deployments"))
    _ok(admin.get("/api/environments/dev/servers"))
    _ok(admin.get("/api/environments/dev/history", params={"limit": 3}))
    _ok(admin.get(f"{DEV_TARGET}/history"))
    _ok(admin.get(f"{DEV_TARGET}/traffic", params={"window": "1h"}))
    _ok(admin.get(f"{DEV_TARGET}/config", params={"reveal": "true", "reason": "checking"}))


def _administration(admin: httpx.Client, anonymous: httpx.Client) -> None:
    _ok(admin.post("/api/tokens", json={"name": "ci", "scopes": ["publish"], "expiresIn": "30d"}), 201)
    _ok(admin.get("/api/tokens"))
    _ok(admin.delete("/api/tokens/ci"))
    _ok(admin.get("/api/whoami"))
    _ok(anonymous.get("/api/whoami"))
    _ok(anonymous.get("/api/changes", params={"after": -1, "wait": 0}))
    _ok(anonymous.get("/api/openapi.json"))
    page = _ok(admin.get("/api/audit", params={"limit": 2}))
    _ok(admin.get("/api/audit", params={"cursor": page["metadata"]["nextCursor"], "action": "release."}))


def _curation(admin: httpx.Client) -> None:
    _ok(admin.post("/api/curation/rules", json={"pattern": "io.github.spam", "effect": "deny"}))
    _ok(admin.put("/api/curation/local/io.github.acme"))
    _ok(admin.put(f"{SERVER}/pin", json={"version": "1.0.0"}))
    _ok(admin.get("/api/curation"))
    _ok(admin.delete(f"{SERVER}/pin"))
    _ok(admin.delete("/api/curation/local/io.github.acme"))
    _ok(admin.delete("/api/curation/rules", params={"pattern": "io.github.spam"}))


def _gateway(admin: httpx.Client) -> None:
    _ok(admin.get(f"{DEV_TARGET}/health"))
    _ok(admin.get(f"{DEV_TARGET}/analysis"))
    for limited in ("/api/environments/dev/rate-limit", f"{DEV_TARGET}/rate-limit"):
        _ok(admin.put(limited, json={"rate": 50, "burst": 100}))
        _ok(admin.get(limited))
    _ok(admin.get("/api/environments/dev/rate-limits"))
    for limited in ("/api/environments/dev/rate-limit", f"{DEV_TARGET}/rate-limit"):
        _ok(admin.delete(limited), 204)


def _testsets(admin: httpx.Client) -> None:
    """A test set run on a release without a streamable-http remote: a stored run of errors."""
    sets = f"{SERVER}/testsets"
    case = {"name": "answers", "tool": "forecast", "expect": {"regex": "sun"}}
    _ok(admin.put(f"{sets}/smoke", json={"cases": [case]}), 201)
    _ok(admin.put(f"{sets}/smoke", json={"cases": [case], "timeoutSeconds": 5}))
    _ok(admin.get(sets))
    _ok(admin.get(f"{sets}/smoke"))
    ran = _ok(admin.post(f"{sets}/smoke/runs", json={"environment": "dev", "version": "1.0.0"}), 201)
    assert ran["result"] == "error"
    _ok(admin.get(f"{sets}/smoke/runs", params={"limit": 5}))
    _ok(admin.get(f"{sets}/smoke/runs/{ran['id']}"))
    _ok(admin.delete(f"{sets}/smoke"), 204)


def _alerts(admin: httpx.Client) -> None:
    rules = "/api/environments/dev/alerts"
    rule = {"kind": "errorRate", "url": "https://hooks.example/a", "secret": "s3cret-s3", "threshold": 0.1}
    _ok(admin.put(f"{rules}/errors", json=rule), 201)
    _ok(admin.put(f"{rules}/errors", json={"kind": "health", "url": "https://hooks.example/alerts"}))
    _ok(admin.get(rules))
    _ok(admin.get(f"{rules}/errors"))
    _ok(admin.get("/api/environments/dev/alert-firings", params={"limit": 5}))
    _refused(admin.put(f"{rules}/bad", json={**rule, "threshold": 2}), 422, "validation_failed")
    _ok(admin.delete(f"{rules}/errors"), 204)


def _gates(admin: httpx.Client) -> None:
    gates = "/api/environments/dev/gates"
    hook = {"kind": "webhook", "url": "https://hooks.example/gate", "secret": "s3cret-s3cret"}
    hook["points"] = ["promote"]
    _ok(admin.put(f"{gates}/ci", json=hook), 201)
    _ok(admin.put(f"{gates}/ci", json={"kind": "testset", "testset": "smoke", "points": ["promote"]}))
    _ok(admin.get(gates))
    _ok(admin.get(f"{gates}/ci"))
    _ok(admin.get(f"{DEV_TARGET}/gates"))
    _refused(admin.put(f"{gates}/bad", json={**hook, "points": ["later"]}), 422, "invalid_gate")
    _ok(admin.delete(f"{gates}/ci"), 204)


def _upstreams(admin: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """The subregistry, syncing from an official-shaped fake upstream (no socket)."""
    upstream = FakeUpstream()
    upstream.add({**_draft("1.0.0"), "name": "io.github.mirrored/tool"})
    upstream.add({"name": "io.github.mirrored/bad", "version": "1.0.0"})  # no description: refused
    monkeypatch.setattr(sync, "upstream_client", upstream.client)
    _ok(
        admin.post(
            "/api/upstreams", json={"name": "public", "url": BASE, "namespaces": ["io.github.mirrored/*"]}
        ),
        201,
    )
    _ok(admin.get("/api/upstreams"))
    _ok(admin.patch("/api/upstreams/public", json={"interval": "1h"}))
    assert _ok(admin.post("/api/upstreams/public/sync"))["added"] == 1
    _ok(admin.get("/api/upstreams/public"))
    _ok(admin.get("/api/upstreams/public/runs", params={"refused": "true"}))
    _ok(admin.delete("/api/upstreams/public"), 204)


def _refusals(admin: httpx.Client, anonymous: httpx.Client) -> None:
    _refused(anonymous.post(f"{SERVER}/drafts", json=_draft("3.0.0")), 401, "unauthenticated")
    _refused(admin.get("/api/servers/io.github.nobody/none/versions/1.0.0"), 404, "server_not_found")
    _refused(admin.post("/api/environments", json={"name": "lab", "colour": "red"}), 422, "unknown_field")
    _refused(admin.post(f"{SERVER}/drafts", json=_draft("1.0.0")), 409, "version_exists")
    _refused(admin.put(f"{SERVER}/versions/1.0.0", json=_draft("1.0.0")), 409, "immutable_release")
    malformed = admin.post(f"{SERVER}/drafts", content=b"{", headers={"Content-Type": "application/json"})
    _refused(malformed, 400, "malformed_json")
    _refused(admin.get("/api/audit", params={"limit": 0}), 422, "validation_failed")
    _refused(admin.get("/api/environments/dev/deployments/999999"), 404, "deployment_not_found")
    _refused(admin.get(f"{SERVER}/resolve", params={"range": "^9"}), 404, "no_matching_version")
    _refused(admin.post(f"{DEV_TARGET}/rollout/pause"), 409, "no_rollout")
    _refused(admin.get(f"{DEV_TARGET}/traffic", params={"window": "5x"}), 400, "invalid_window")


def test_every_api_operation_answers_as_its_openapi_document_says(
    app_server: InProcess,
    engine: sa.Engine,
    admin: httpx.Client,
    anonymous: httpx.Client,
    checked: Conformance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    approver_token = make_token(engine, "approver", ["deploy"])
    with app_server.client(approver_token, event_hooks={"response": [checked]}) as approver:
        _releases(admin)
        _configuration(admin)
        _environments(admin)
        _rollouts(admin, approver)
        _administration(admin, anonymous)
        _curation(admin)
        _gateway(admin)
        _testsets(admin)
        _alerts(admin)
        _gates(admin)
        _upstreams(admin, monkeypatch)
        _refusals(admin, anonymous)
    every = {(m.upper(), p) for p, item in checked.doc["paths"].items() for m in item}
    assert every - checked.succeeded == set()
    assert checked.checked >= len(every) + 10


def test_an_answer_the_document_does_not_describe_fails_the_check(tmp_path: Path) -> None:
    """The hook is honest: an extra key, a wrong type or an unlisted code fails it."""
    settings = Settings.from_env(
        {
            "MCPREG_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
            "MCPREG_DATA_DIR": str(tmp_path),
            "MCPREG_DEV": "1",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
        }
    )
    checked = Conformance(document(create_app(settings, prepare=False, background=False).routes))

    def answered(
        method: str, path: str, status: int, body: Any, media: str = "application/json"
    ) -> httpx.Response:
        request = httpx.Request(method, f"http://testserver{path}")
        return httpx.Response(status, json=body, headers={"content-type": media}, request=request)

    good = {"generation": 3, "changed": True}
    checked(answered("GET", "/api/changes", 200, good))
    for bad in ({**good, "extra": 1}, {"generation": "3", "changed": True}, {"generation": 3}):
        with pytest.raises(AssertionError):
            checked(answered("GET", "/api/changes", 200, bad))
    problem = {
        "type": "https://mcpreg.dev/problems/x",
        "title": "Conflict",
        "status": 409,
        "detail": "d",
        "error": "d",
        "code": "release_in_use",  # a 409 code, but not one this route can answer
    }
    with pytest.raises(AssertionError, match="is not one of"):
        checked(answered("POST", "/api/tokens", 409, problem, "application/problem+json"))
    with pytest.raises(AssertionError, match="status not in the document"):
        checked(answered("GET", "/api/changes", 409, problem, "application/problem+json"))
