"""Alert rules and firings over HTTP.

``GET .../environments/{env}/alerts`` lists the rules; ``.../alerts/{name}`` is one, with GET,
PUT (create: 201, replace: 200; the secret may be left out of a replace, which keeps it)
and DELETE; ``GET .../environments/{env}/alert-firings`` lists the firings with their
deliveries. No answer ever holds a rule's secret.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, query_int, query_param, run, settings_of
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas import alerts as schema
from mcpreg.domain.alerts import parse_rule
from mcpreg.domain.principal import Principal
from mcpreg.services.alerts import history, rules
from mcpreg.services.tokens import require


def _env(request: Request) -> str:
    return str(request.path_params["env"])


def _name(request: Request) -> str:
    return str(request.path_params["name"])


def rule_answer(record: rules.RuleRecord) -> schema.AlertRule:
    rule = record.rule
    return schema.AlertRule(
        environment=record.environment,
        name=record.name,
        kind=rule.kind,
        url=rule.url,
        server=rule.server,
        threshold=rule.threshold,
        window=rule.window,
        min_requests=rule.min_requests,
        state=rule.state,
        timeout_seconds=rule.timeout,
        secret_set=True,
        created_at=record.created_at,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
    )


async def list_rules(request: Request) -> Response:
    env = _env(request)

    def work(session: Session, principal: Principal) -> schema.AlertRuleList:
        found = rules.list_rules(session, principal, env)
        return schema.AlertRuleList(environment=env, rules=[rule_answer(r) for r in found])

    return json_response(request, await run(request, work))


async def get_rule(request: Request) -> Response:
    env, name = _env(request), _name(request)

    def work(session: Session, principal: Principal) -> schema.AlertRule:
        return rule_answer(rules.get_rule(session, principal, env, name))

    return json_response(request, await run(request, work))


async def put_rule(request: Request) -> Response:
    env, name = _env(request), _name(request)
    body = await json_object(request)
    private = settings_of(request).allow_private_remotes
    keyring = runtime(request.app).keyring

    def work(session: Session, principal: Principal) -> tuple[schema.AlertRule, bool]:
        require(principal, "deploy", environment=env)  # refused before the body is judged
        exists = rules.exists(session, env, name)
        spec = parse_rule(body, private_remotes=private, creating=not exists)
        record, created = rules.set_rule(session, keyring, principal, env, name, spec)
        return rule_answer(record), created

    answer, created = await run(request, work, write=True)
    return json_response(request, answer, status=201 if created else 200)


async def delete_rule(request: Request) -> Response:
    env, name = _env(request), _name(request)

    def work(session: Session, principal: Principal) -> None:
        rules.delete_rule(session, principal, env, name)

    await run(request, work, write=True)
    return Response(status_code=204)


async def list_firings(request: Request) -> Response:
    env = _env(request)
    limit = query_int(request, "limit", 50, 1, 500)
    rule = query_param(request, "rule") or None

    def work(session: Session, principal: Principal) -> schema.AlertFiringList:
        found = history.list_firings(session, principal, env, rule=rule, limit=limit)
        return schema.AlertFiringList(
            environment=env,
            firings=[schema.AlertFiring.model_validate(f, from_attributes=True) for f in found],
        )

    return json_response(request, await run(request, work))
