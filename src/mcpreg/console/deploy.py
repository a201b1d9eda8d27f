"""The deploy and promote dialogs: strategy, weight or steps, notes, and a schedule time.

``GET /console/environments/{env}/deploy?server=NAME`` and ``GET .../servers/{ns}/{name}/
promote`` show the form (``?fragment=1``: the form alone, which ``static/live.js`` opens in
a ``<dialog>``); a ``POST`` to the same path turns the form into the body the API takes and
reads it with the API's own parser (``parse_deploy``, ``parse_promote``), then calls
``deployments.deploy`` or ``deployments.promote``. A refusal is the API's: the form comes
back with the ``RegistryError``'s words, its code, and the field it names marked.

The schedule time is entered in UTC (the label says so; the script shows the viewer's local
time beside it). Deploying to, or promoting into, a protected environment needs the
confirmation box ticked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.console.showing import SHOW, target_path
from mcpreg.console.templating import render, utc_text
from mcpreg.console.visits import Visitor, back_to, page, submit, visit
from mcpreg.db.deploy_tables import Deployment, Environment
from mcpreg.domain.deploy_requests import STRATEGIES, parse_deploy, parse_promote
from mcpreg.errors import RegistryError, ValidationFailed
from mcpreg.services import environments, releases
from mcpreg.services.deploy import deployments
from mcpreg.services.deploy import events as deploy_history
from mcpreg.services.deploy.states import find_state
from mcpreg.services.tokens import require

ACKNOWLEDGE = "acknowledge"
FIELDS = (
    "server",
    "version",
    "strategy",
    "weight",
    "steps",
    "notes",
    "scheduled_at",
    "to",
    "force",
    ACKNOWLEDGE,
)
"""The form's fields: the API's body keys, plus the protected environment's confirmation box."""
KEEP_ON_ERROR = frozenset(FIELDS) - {ACKNOWLEDGE}
SESSION_ERRORS = ("cross_origin", "csrf_failed", "unauthenticated", "token_expired")


def deploy_link(env: str, server: str) -> str:
    """Where the deploy dialog of ``server`` to ``env`` lives."""
    return f"/console/environments/{env}/deploy?{urlencode({'server': server})}"


def schedule_text(value: str) -> str:
    """A ``datetime-local`` value (``2030-01-31T18:00``), read as UTC, as RFC 3339 text."""
    value = value.strip()
    has_zone = value.endswith(("Z", "z")) or (len(value) > 19 and value[-6] in "+-")
    return value if has_zone else f"{value}Z"


def _weight(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValidationFailed("weight must be a number (a percentage)", field="weight") from None


def body_of(form: dict[str, str], *, source: str | None = None) -> dict[str, Any]:
    """The API's request body for this form (``source``: promote from that environment)."""
    strategy = form.get("strategy") or "immediate"
    body: dict[str, Any] = {"strategy": strategy}
    if source is None:
        body["server"], body["version"] = form.get("server", ""), form.get("version", "")
    else:
        body["from"], body["force"] = source, form.get("force") == "yes"
        if form.get("to"):
            body["to"] = form["to"]
    if strategy == "canary":
        body["weight"] = _weight(form.get("weight", ""))
    if strategy == "staged":
        body["steps"] = form.get("steps", "")
    if form.get("notes", "").strip():
        body["notes"] = form["notes"].strip()
    if form.get("scheduled_at", "").strip():
        body["scheduled_at"] = schedule_text(form["scheduled_at"])
    return body


def _values(form: FormData) -> dict[str, str]:
    return {key: value for key in FIELDS if isinstance(value := form.get(key), str)}


def _check_acknowledged(env: Environment, values: dict[str, str], verb: str) -> None:
    if env.protected and values.get(ACKNOWLEDGE) != "yes":
        raise ValidationFailed(
            f"{env.name} is protected: tick the box to confirm the {verb}", field=ACKNOWLEDGE
        )


def outcome(session: Session, deployment: Deployment) -> str:
    """What happened, in one sentence, for the notice on the page the form leads to."""
    if deployment.state == "pending_approval":
        return f"deployment #{deployment.id} of {deployment.version} waits for approval by another principal"
    if deployment.state == "scheduled" and deployment.scheduled_at is not None:
        when = utc_text(deployment.scheduled_at)
        return f"deployment #{deployment.id} of {deployment.version} is scheduled for {when}"
    env = environments.get_environment(session, deployment.environment)
    events = deploy_history.history(session, env, server_id=deployment.server_id, limit=1).events
    return events[0].summary if events else f"deployment #{deployment.id} is {deployment.state}"


def _versions(session: Session, name: str) -> list[tuple[str, bool]]:
    """The server's active releases, newest first, each with whether it is a pre-release."""
    server = releases.get_server(session, name)
    return [
        (r.version, r.is_prerelease) for r in releases.all_releases(session, server) if r.status == "active"
    ]


def _form_context(
    session: Session, visitor: Visitor, env_name: str, server: str, *, promote: bool
) -> dict[str, Any]:
    env = environments.get_environment(session, env_name)
    context: dict[str, Any] = {
        **SHOW,
        "visitor": visitor,
        "env": env,
        "server": server,
        "strategies": STRATEGIES,
        "versions": _versions(session, server) if server else [],
        "promote": promote,
        "later": [],
        "stable": None,
    }
    if promote:
        state = find_state(session, releases.get_server(session, server), env)
        context["stable"] = state.stable_version if state is not None else None
        context["later"] = [e for e in environments.list_environments(session) if e.position > env.position]
    return context


def _render_form(
    request: Request,
    context: dict[str, Any],
    values: dict[str, str],
    refused: RegistryError | None = None,
) -> Response:
    env, server, promote = context["env"], context["server"], context["promote"]
    if promote:
        action, title = f"{target_path(env.name, server)}/promote", f"Promote {server} from {env.name}"
    else:
        action, title = f"/console/environments/{env.name}/deploy", f"Deploy to {env.name}"
    field = (refused.field or "").split("[")[0].split(".")[0] if refused is not None else ""
    fragment = request.query_params.get("fragment") == "1"
    extra = {"title": title, "action": action, "values": values, "refused": refused, "bad": field}
    status = refused.status if refused is not None else 200
    return render(
        request, "deploy_form.html" if fragment else "deploy.html", {**context, **extra}, status=status
    )


@page
async def deploy_form(request: Request) -> Response:
    env = request.path_params["env"]
    server = request.query_params.get("server", "").strip()

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        require(visitor.principal, "read", environment=env)
        return _form_context(session, visitor, env, server, promote=False)

    return _render_form(request, await visit(request, work), {"server": server})


@page
async def promote_form(request: Request) -> Response:
    env = request.path_params["env"]
    server = f"{request.path_params['namespace']}/{request.path_params['server']}"

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        require(visitor.principal, "read", server=server, environment=env)
        return _form_context(session, visitor, env, server, promote=True)

    return _render_form(request, await visit(request, work), {})


async def _post(request: Request, env_name: str, server: str | None) -> Response:
    """Deploy (``server`` None: the form names it) or promote ``server`` from ``env_name``."""
    values: dict[str, str] = {}
    landed: list[tuple[str, str]] = []

    def work(session: Session, visitor: Visitor, form: FormData) -> str:
        values.update(_values(form))
        env = environments.get_environment(session, env_name)
        if server is None:
            asked = parse_deploy(body_of(values))
            _check_acknowledged(env, values, "deploy")
            done = deployments.deploy(session, visitor.principal, env.name, asked)
        else:
            promotion = parse_promote(body_of(values, source=env.name))
            if promotion.target is None:
                target = environments.next_environment(session, env)
            else:
                target = environments.get_environment(session, promotion.target, field="to")
            if target is not None:  # none after the last environment: the service says so
                _check_acknowledged(target, values, "promotion")
            version = values.get("version", "")
            done = deployments.promote(session, visitor.principal, server, version, promotion)
        landed.append((done.environment, done.server_name))
        return outcome(session, done)

    try:
        said = await submit(request, work)
    except RegistryError as refused:
        if refused.code in SESSION_ERRORS or not values:
            raise
        name = server or values.get("server", "")
        promote = server is not None

        def again(session: Session, visitor: Visitor) -> dict[str, Any]:
            return _form_context(session, visitor, env_name, name, promote=promote)

        kept = {k: v for k, v in values.items() if k in KEEP_ON_ERROR}
        return _render_form(request, await visit(request, again), kept, refused)
    env, name = landed[0]
    return back_to(f"{target_path(env, name)}/rollout", f"Done: {said}.")


@page
async def deploy(request: Request) -> Response:
    return await _post(request, request.path_params["env"], None)


@page
async def promote(request: Request) -> Response:
    server = f"{request.path_params['namespace']}/{request.path_params['server']}"
    return await _post(request, request.path_params["env"], server)
