"""Deploy requests still waiting (pending approval, scheduled): listed on the rollout panel
with their Approve and Cancel buttons.

``GET /console/environments/{env}/deployments/{id}/{approve|cancel}`` is the confirmation
page (the same form the panel's ``<dialog>`` holds, for browsers without JavaScript); a
``POST`` there calls ``approvals.approve`` or ``approvals.cancel``, as
``POST /api/environments/{env}/deployments/{id}/approve|cancel`` does, then returns to the
panel. The confirmation names the version and the environment; approving in a protected
environment (it deploys there) needs its box ticked, as a deploy does.

A button that cannot apply is disabled with the reason when the reason is known ahead: the
visitor may not deploy there (``require_deploy``), the request is not waiting for approval,
or the visitor asked for it (a deployment is approved by another principal). Whatever the
service still refuses comes back on the confirmation page in its words, with its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.console.deploy import outcome
from mcpreg.console.showing import SHOW, Offer, target_path, utc
from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, back_to, form_text, page, submit, visit
from mcpreg.db.deploy_tables import Deployment, Environment
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.domain.storable import MAX_ROW_ID
from mcpreg.errors import NotFound, RegistryError, ValidationFailed
from mcpreg.services import environments
from mcpreg.services.deploy import approvals, deployments
from mcpreg.services.deploy.states import number, plan_of
from mcpreg.services.tokens import require

DECISIONS: dict[str, str] = {"approve": "Approve", "cancel": "Cancel request"}
WAITING = ("pending_approval", "scheduled")
ACKNOWLEDGE = "acknowledge"
SESSION_ERRORS = ("cross_origin", "csrf_failed", "unauthenticated", "token_expired")
LISTED = 20


@dataclass(frozen=True)
class Waiting:
    """A deploy request still waiting, and its two buttons."""

    id: int
    version: str
    strategy: str  # in words: "canary at 10%", "staged 5% → 25% → 100%", "immediate"
    state: str
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    scheduled_at: datetime | None
    notes: str | None
    choices: tuple[Offer, ...]

    def choice(self, decision: str) -> Offer:
        return next(c for c in self.choices if c.action == decision)


def strategy_words(deployment: Deployment) -> str:
    steps = plan_of(deployment.plan)
    if deployment.strategy == "canary" and steps:
        return f"canary at {number(steps[0].weight)}%"
    if deployment.strategy == "staged" and steps:
        return "staged " + " → ".join(f"{number(s.weight)}%" for s in steps)
    return deployment.strategy


def _gone(d: Deployment) -> str | None:
    return None if d.state in WAITING else f"deployment #{d.id} is {d.state.replace('_', ' ')}: nothing waits"


def _approve(d: Deployment, env: Environment, principal: Principal, what: str) -> tuple[str, str | None]:
    if (gone := _gone(d)) is not None:
        return "", gone
    if d.state != "pending_approval":
        already = f" (approved by {d.approved_by})" if d.approved_by else ""
        return "", f"it is scheduled{already}, not waiting for approval"
    if d.requested_by == principal.name:
        return "", "you requested it: a deployment is approved by a principal other than its requester"
    later = d.scheduled_at is not None and d.scheduled_at > utcnow()
    then = f"it then waits for {utc(d.scheduled_at)}" if later else f"it applies in {env.name} at once"
    return f"Approve {what}, requested by {d.requested_by}: {then}.", None


def choices(d: Deployment, env: Environment, principal: Principal) -> tuple[Offer, ...]:
    """The Approve and Cancel buttons of ``d`` for ``principal``."""
    try:
        environments.require_deploy(principal, env, d.server_name)
        denied = None
    except RegistryError as refused:
        denied = refused.detail
    what = f"deployment #{d.id}: {d.version} ({strategy_words(d)}) of {d.server_name} to {env.name}"
    says, reason = _approve(d, env, principal, what)
    cancel = f"Cancel {what}: it is withdrawn and never applied."
    return (
        Offer("approve", DECISIONS["approve"], says, denied or reason, env.protected),
        Offer("cancel", DECISIONS["cancel"], cancel, denied or _gone(d), False),
    )


def waiting(d: Deployment, env: Environment, principal: Principal) -> Waiting:
    return Waiting(
        id=d.id or 0,
        version=d.version,
        strategy=strategy_words(d),
        state=d.state,
        requested_by=d.requested_by,
        requested_at=d.requested_at,
        approved_by=d.approved_by,
        scheduled_at=d.scheduled_at,
        notes=d.notes,
        choices=choices(d, env, principal),
    )


def waiting_here(session: Session, env: Environment, server: str, principal: Principal) -> list[Waiting]:
    """The target's requests still waiting, oldest first (the order they were asked in)."""
    found = [
        d
        for state in WAITING
        for d in deployments.list_deployments(session, env.name, state=state, server=server, limit=LISTED)
    ]
    found.sort(key=lambda d: d.id or 0)
    return [waiting(d, env, principal) for d in found]


def confirm_path(env: str, deployment_id: int, decision: str) -> str:
    return f"/console/environments/{env}/deployments/{deployment_id}/{decision}"


def _decision(request: Request) -> tuple[str, int, str]:
    params = request.path_params
    decision = str(params["decision"])
    if decision not in DECISIONS:
        raise NotFound(f"no decision {decision!r} on a deployment", field="decision")
    env, deployment_id = str(params["env"]), int(params["id"])
    if deployment_id > MAX_ROW_ID:  # beyond any row id: no such deployment (a 404, never a 500)
        raise NotFound(f"no deployment {deployment_id} in {env}", field="id", code="deployment_not_found")
    return env, deployment_id, decision


def _context(session: Session, visitor: Visitor, env_name: str, deployment_id: int) -> dict[str, Any]:
    found = deployments.get_deployment(session, env_name, deployment_id)
    require(visitor.principal, "read", server=found.server_name, environment=found.environment)
    env = environments.get_environment(session, env_name)
    return {
        **SHOW,
        "visitor": visitor,
        "env": env,
        "server": found.server_name,
        "item": waiting(found, env, visitor.principal),
        "path": target_path(env.name, found.server_name),
    }


@page
async def confirm(request: Request) -> Response:
    """The confirmation page, for browsers without JavaScript (the same form as the dialog)."""
    env, deployment_id, decision = _decision(request)
    context = await visit(request, lambda session, visitor: _context(session, visitor, env, deployment_id))
    choice = context["item"].choice(decision)
    extra = {"choice": choice, "title": f"{choice.label}: deployment #{deployment_id}", "refused": None}
    return render(request, "waiting_confirm.html", {**context, **extra})


def _decide(
    session: Session, visitor: Visitor, form: FormData, env_name: str, deployment_id: int, decision: str
) -> tuple[str, str]:
    env = environments.get_environment(session, env_name)
    notes = form_text(form, "notes", required=False, limit=2000)
    principal = visitor.principal
    if decision == "approve":
        if env.protected and form.get(ACKNOWLEDGE) != "yes":
            raise ValidationFailed(
                f"{env.name} is protected: tick the box to confirm the approval", field=ACKNOWLEDGE
            )
        done = approvals.approve(session, principal, env.name, deployment_id, notes=notes)
        said = f"approved deployment #{done.id}; {outcome(session, done)}"
    else:
        done = approvals.cancel(session, principal, env.name, deployment_id, notes=notes)
        said = f"cancelled deployment #{done.id} of {done.version}"
    return target_path(env.name, done.server_name), said


@page
async def decide(request: Request) -> Response:
    env, deployment_id, decision = _decision(request)
    try:
        path, said = await submit(
            request,
            lambda session, visitor, form: _decide(session, visitor, form, env, deployment_id, decision),
        )
    except RegistryError as refused:
        if refused.code in SESSION_ERRORS:
            raise
        context = await visit(
            request, lambda session, visitor: _context(session, visitor, env, deployment_id)
        )
        choice = context["item"].choice(decision)
        extra = {
            "choice": choice,
            "title": f"{choice.label}: deployment #{deployment_id}",
            "refused": refused,
        }
        return render(request, "waiting_confirm.html", {**context, **extra}, status=refused.status)
    return back_to(f"{path}/rollout", f"Done: {said}.")
