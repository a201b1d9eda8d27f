"""Set up the resolve scenario: a stable release and a 10% canary of a newer one on some servers.

Deployments go through the HTTP API with the admin token. A deployment held for approval is
approved with a second admin token (an environment may require a different approver).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

CANARY_WEIGHT = 10


@dataclass
class CanarySetup:
    """Servers whose canary is live, and the first failure seen (if any)."""

    deployed: list[str] = field(default_factory=list)
    failures: int = 0
    first_error: str | None = None
    approvals: int = 0

    def note(self, tried: int) -> str | None:
        if self.first_error is None:
            return None
        return f"canary setup failed on {self.failures} of {tried} servers, first: {self.first_error}"


def _stable_pair(versions: list[str]) -> tuple[str, str] | None:
    """(previous stable, newest stable): environments may refuse pre-releases."""
    stables = [v for v in versions if "-" not in v]
    return (stables[-2], stables[-1]) if len(stables) >= 2 else None


def _state(response: httpx.Response) -> str | None:
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        return None
    deployment = body.get("deployment")
    return deployment.get("state") if isinstance(deployment, dict) else None


def _submit(
    client: httpx.Client,
    env: str,
    body: dict[str, Any],
    token: str | None,
    approver: Callable[[], str | None],
    setup: CanarySetup,
) -> str | None:
    """POST one deployment (approving it when held); None on success, else the failure."""
    url = f"/api/environments/{env}/deployments"
    response = client.post(url, json=body, headers=_auth(token))
    if response.status_code >= 300:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    if _state(response) != "pending_approval":
        return None
    deployment_id = response.json()["deployment"]["id"]
    approval = client.post(f"{url}/{deployment_id}/approve", headers=_auth(approver()))
    setup.approvals += 1
    if approval.status_code >= 300:
        return f"approve HTTP {approval.status_code}: {approval.text[:300]}"
    return None


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def setup(
    client: httpx.Client,
    token: str | None,
    approver: Callable[[], str | None],
    env: str,
    releases: dict[str, list[str]],
) -> CanarySetup:
    """Deploy the previous stable immediately, then the newest stable as a 10% canary."""
    done = CanarySetup()
    for name, versions in releases.items():
        pair = _stable_pair(versions)
        if pair is None:
            continue
        stable, newest = pair
        error = _submit(client, env, {"server": name, "version": stable}, token, approver, done)
        if error is None:
            canary = {"server": name, "version": newest, "strategy": "canary", "weight": CANARY_WEIGHT}
            error = _submit(client, env, canary, token, approver, done)
        if error is None:
            done.deployed.append(name)
            continue
        done.failures += 1
        done.first_error = done.first_error or error
        if error.startswith(("HTTP 404", "HTTP 405")) and not done.deployed:
            break
    return done
