"""The rollout panel: one server in one environment, its step timeline and its six buttons.

``GET .../rollout`` shows stable, canary and weight, the plan's steps (reached, current,
to come, with when and by whom each was reached), the requests still waiting, the recent
history, and the buttons: promote one step, promote fully, pause, resume, abort, roll back.
Whether a button applies is asked of the same rules the API obeys: the domain's state
machine (``domain.rollout``) on the rollout as it stands now, and ``require_deploy`` for
the visitor; a button that does not apply is disabled with that rule's words.

Each button opens a confirmation naming the version and environment: a ``<dialog>`` with
JavaScript (``static/live.js``), ``GET .../rollout/{action}`` without. The confirmation
posts to the same path, which calls ``rollouts.transition`` or ``rollouts.rollback`` as the
API handlers do. Promoting in a protected environment needs its box ticked.

The panel also shows the prober's health of the stable and canary versions (as the board
does), the requests still waiting with their Approve and Cancel buttons (``console.waiting``)
and the analysis per interval with its charts and decision (``console.analysis``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.schemas.deployments import Target
from mcpreg.api.schemas.history import HistoryEvent
from mcpreg.console import analysis, waiting
from mcpreg.console.showing import SHOW, Offer, pct, target_path
from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, back_to, page, submit, visit
from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.types import utcnow
from mcpreg.domain import rollout as machine
from mcpreg.domain.principal import Principal
from mcpreg.domain.timestamps import read_rfc3339
from mcpreg.errors import NotFound, RegistryError, ValidationFailed
from mcpreg.services import environments, health, releases
from mcpreg.services.deploy import events as deploy_history
from mcpreg.services.deploy import rollouts
from mcpreg.services.deploy.states import TargetInfo, find_state, is_rolling_out, plan_of, rollout_of
from mcpreg.services.journal import current_generation
from mcpreg.services.tokens import require

ACTIONS: dict[str, str] = {
    "promote": "Promote one step",
    "promote-full": "Promote fully",
    "pause": "Pause",
    "resume": "Resume",
    "abort": "Abort",
    "rollback": "Roll back",
}
ACKNOWLEDGE = "acknowledge"
"""The confirmation box a promotion in a protected environment needs ticked."""
RECENT = 10


@dataclass(frozen=True)
class StepView:
    """One step of the plan: ``done``, ``current`` or ``waiting``; when and by whom it was reached."""

    number: int
    weight: float
    pause: str
    state: str
    reached_at: datetime | None
    reached_by: str | None
    next_at: datetime | None


def _machine_offer(
    action: str, current: machine.RolloutState, state: DeploymentState, env: Environment, now: datetime
) -> tuple[str, str | None]:
    canary, stable, here = state.canary_version, state.stable_version, env.name
    try:
        if action in ("promote", "promote-full"):
            moved = machine.promote(current, now, full=action == "promote-full")
            if moved.status == "completed":
                return (
                    f"Promote {canary} to 100% in {here}: it becomes the stable version, replacing {stable}.",
                    None,
                )
            return f"Promote {canary} in {here} from {pct(current.weight)} to {pct(moved.weight)}.", None
        if action == "pause":
            paused = machine.pause(current, now)
            left = machine.format_duration(int(paused.paused_remaining or 0))
            return f"Pause the rollout of {canary} in {here} at {pct(current.weight)} ({left} left).", None
        if action == "resume":
            machine.resume(current, now)
            left = machine.format_duration(int(current.paused_remaining or 0))
            return f"Resume the rollout of {canary} in {here}: the next step comes {left} later.", None
        machine.abort(current, now)
        return f"Abort the rollout of {canary} in {here}: every client goes to {stable}.", None
    except RegistryError as refused:
        return "", refused.detail


def _rollback_offer(state: DeploymentState | None, env: Environment, server: str) -> tuple[str, str | None]:
    """The rule of ``rollouts.rollback`` without a version: drop a canary, else the last known good."""
    if state is None or state.stable_version is None:
        return "", f"nothing of {server} is deployed in {env.name}"
    if is_rolling_out(state) and state.canary_version is not None:
        return (
            f"Roll back {server} in {env.name}: drop the canary {state.canary_version}; "
            f"{state.stable_version} serves every client.",
            None,
        )
    if state.last_known_good is not None:
        return (
            f"Roll back {server} in {env.name} from {state.stable_version} to {state.last_known_good}.",
            None,
        )
    return "", f"{server} has no earlier good version in {env.name}"


def offers(
    state: DeploymentState | None, env: Environment, server: str, principal: Principal, now: datetime
) -> list[Offer]:
    """The six buttons for this target as it stands at ``now``, for this principal."""
    try:
        environments.require_deploy(principal, env, server)
        denied = None
    except RegistryError as refused:
        denied = refused.detail
    current = rollout_of(state) if state is not None else None
    found = []
    for action, label in ACTIONS.items():
        if action == "rollback":
            says, reason = _rollback_offer(state, env, server)
        elif current is None or state is None:
            says, reason = "", f"{server} has no rollout in {env.name}"
        else:
            says, reason = _machine_offer(action, machine.tick(current, now), state, env, now)
        acknowledge = env.protected and action in ("promote", "promote-full")
        found.append(Offer(action, label, says, denied or reason, acknowledge))
    return found


def timeline(state: DeploymentState | None, events: list[dict[str, Any]]) -> list[StepView]:
    """The rollout's steps, each with when and by whom it was reached (from its history events)."""
    if state is None or state.rollout_id is None:
        return []
    steps = plan_of(state.rollout_plan)
    reached: dict[int, tuple[datetime | None, str]] = {}
    for event in reversed(events):  # oldest first: the first time a step was reached
        if event["rolloutId"] != state.rollout_id:
            continue
        detail = event["detail"] or {}
        if event["action"] in ("deploy", "promote") and "step" not in detail:
            index = 0
        elif event["action"] in ("step", "complete", "promote") and isinstance(detail.get("step"), int):
            index = detail["step"]
        else:
            continue
        reached.setdefault(index, (read_rfc3339(event["at"]), event["actor"]))
    views = []
    for index, step in enumerate(steps):
        if index < state.rollout_index or state.rollout_status == "completed":
            status = "done"
        elif index == state.rollout_index:
            status = "aborted" if state.rollout_status == "aborted" else "current"
        else:
            status = "waiting"
        pause = step.to_dict().get("pause", "")
        at, by = reached.get(index, (None, None))
        next_at = state.next_step_at if status == "current" else None
        views.append(StepView(index + 1, step.weight, pause, status, at, by, next_at))
    return views


def _panel(session: Session, visitor: Visitor, env_name: str, name: str) -> dict[str, Any]:
    principal = visitor.principal
    require(principal, "read", server=name, environment=env_name)
    env = environments.get_environment(session, env_name)
    server = releases.get_server(session, name)
    state = find_state(session, server, env)
    now = utcnow()
    found = deploy_history.history(session, env, server_id=server.id, limit=100).events
    events = [HistoryEvent.of(e).model_dump(mode="json") for e in found]  # as the API shows them
    seen = {
        version: held
        for name, where, version, held in health.all_states(session)
        if (name, where) == (server.name, env.name)
    }
    return {
        **SHOW,
        "visitor": visitor,
        "env": env,
        "server": server.name,
        "view": Target.of(TargetInfo.of(state, env, server.name)).model_dump(mode="json"),
        "steps": timeline(state, events),
        "offers": offers(state, env, server.name, principal, now),
        "recent": events[:RECENT],
        "waiting": waiting.waiting_here(session, env, server.name, principal),
        "health": seen,
        "analysis": analysis.report(session, state, env.name),
        "refresh_every": analysis.REFRESH_SECONDS,
        "generation": current_generation(session),
        "path": target_path(env.name, server.name),
        "now": now,
    }


def _names(request: Request) -> tuple[str, str]:
    params = request.path_params
    return params["env"], f"{params['namespace']}/{params['server']}"


def _shown(session: Session, visitor: Visitor, env_name: str, name: str) -> str:
    """``GENERATION:SIGNATURE`` of the panel as it stands (a few small reads, no panel built)."""
    require(visitor.principal, "read", server=name, environment=env_name)
    env = environments.get_environment(session, env_name)
    state = find_state(session, releases.get_server(session, name), env)
    return f"{current_generation(session)}:{analysis.signature(session, state)}"


@page
async def panel(request: Request) -> Response:
    env, name = _names(request)
    unless = request.query_params.get("unless")
    if unless is not None and request.query_params.get("fragment") == "1":
        shown = await visit(request, lambda session, visitor: _shown(session, visitor, env, name))
        if shown == unless:  # live.js already shows this: nothing to send
            return Response(status_code=204, headers={"Cache-Control": "no-store"})
    context = await visit(request, lambda session, visitor: _panel(session, visitor, env, name))
    fragment = request.query_params.get("fragment") == "1"
    template = "rollout_live.html" if fragment else "rollout.html"
    return render(request, template, {**context, "title": f"{name} in {env}"})


def _action(request: Request) -> str:
    action = str(request.path_params["action"])
    if action not in ACTIONS:
        raise NotFound(f"no rollout action {action!r}", field="action")
    return action


def _offer(context: dict[str, Any], action: str) -> Offer:
    found: list[Offer] = context["offers"]
    return next(o for o in found if o.action == action)


@page
async def confirm(request: Request) -> Response:
    """The confirmation page, for browsers without JavaScript (the same form as the dialog)."""
    env, name = _names(request)
    action = _action(request)
    context = await visit(request, lambda session, visitor: _panel(session, visitor, env, name))
    offer = _offer(context, action)
    extra = {"offer": offer, "title": offer.label, "refused": None}
    return render(request, "rollout_confirm.html", {**context, **extra})


def _act(session: Session, visitor: Visitor, form: FormData, env_name: str, name: str, action: str) -> str:
    env = environments.get_environment(session, env_name)
    acknowledged = form.get(ACKNOWLEDGE) == "yes"
    if env.protected and action in ("promote", "promote-full") and not acknowledged:
        raise ValidationFailed(
            f"{env.name} is protected: tick the box to confirm the promotion", field=ACKNOWLEDGE
        )
    notes = form.get("notes")
    notes = notes.strip() or None if isinstance(notes, str) else None
    principal = visitor.principal
    if action == "rollback":
        state = rollouts.rollback(session, principal, name, env.name, notes=notes)
    else:
        verb = "promote" if action == "promote-full" else action
        full = action == "promote-full"
        state = rollouts.transition(session, principal, name, env.name, verb, full=full, notes=notes)
    events = deploy_history.history(session, env, server_id=state.server_id, limit=1).events
    return events[0].summary if events else ACTIONS[action]


@page
async def act(request: Request) -> Response:
    env, name = _names(request)
    action = _action(request)
    try:
        said = await submit(
            request, lambda session, visitor, form: _act(session, visitor, form, env, name, action)
        )
    except RegistryError as refused:
        if refused.code in ("cross_origin", "csrf_failed", "unauthenticated", "token_expired"):
            raise
        context = await visit(request, lambda session, visitor: _panel(session, visitor, env, name))
        offer = _offer(context, action)
        extra = {"offer": offer, "title": offer.label, "refused": refused}
        return render(request, "rollout_confirm.html", {**context, **extra}, status=refused.status)
    return back_to(target_path(env, name) + "/rollout", f"Done: {said}.")
