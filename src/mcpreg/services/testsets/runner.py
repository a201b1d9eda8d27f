"""Running a test set: each case through the real ``mcp`` client, on the version's upstream.

The client reaches the version exactly as the gateway and its health prober do
(``gateway.prober.connected``: the upstream URL and headers ``plan_run`` built from the
effective configuration, the same private-address guard, no redirects), in one MCP session
for the whole set, calling the cases in order. Each call has the set's ``timeoutSeconds``;
the whole run at most that times the cases, plus one for connecting, and never more than
``MAX_RUN`` seconds. Nothing is held open
in the database meanwhile: the plan is read in one transaction and the run stored in
another.

A case passes when its answer meets its expectation (``domain.testsets.judge``); it fails
when the answer misses (a JSON-RPC error answer counts as ``isError: true``); it is an
error when no answer came (a timeout, an upstream that cannot be reached: then every case
not yet called is an error with that reason). The run passes when every case passes, fails
when one failed, and is an error otherwise.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence

import anyio
import anyio.to_thread
import sqlalchemy as sa
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.db.types import utcnow
from mcpreg.domain.testsets import MAX_RUN, Case, ToolAnswer, judge, masked, redact, shorten
from mcpreg.errors import RegistryError
from mcpreg.gateway.prober import connected
from mcpreg.services.testsets.runs import (
    ERROR,
    FAIL,
    PASS,
    CaseResult,
    Plan,
    Run,
    Trigger,
    plan_run,
    record_run,
)
from mcpreg.settings import Settings

log = logging.getLogger("mcpreg.testsets")


def tool_answer(result: CallToolResult) -> ToolAnswer:
    text = "\n".join(item.text for item in result.content if isinstance(item, TextContent))
    return ToolAnswer(bool(result.is_error), text, result.structured_content)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _expected(case: Case, secrets: Sequence[str] = ()) -> str:
    return shorten(json.dumps(masked(case.expect.to_dict(), secrets), ensure_ascii=False, sort_keys=True))


async def _call(client: Client, case: Case, timeout: float, secrets: Sequence[str]) -> CaseResult:
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout):
            result = await client.call_tool(case.tool, case.arguments)
        answer = tool_answer(result)
    except TimeoutError:
        reason = f"no answer within {timeout:g} s"
        return CaseResult(case.name, case.tool, ERROR, reason, _expected(case, secrets), None, _ms(started))
    except MCPError as exc:  # a JSON-RPC error answer (unknown tool, invalid arguments): an error result
        answer = ToolAnswer(True, str(exc))
    verdict = judge(case, answer, secrets)
    return CaseResult(
        case.name,
        case.tool,
        PASS if verdict.passed else FAIL,
        verdict.reason,
        _expected(case, secrets),
        answer.shown(secrets),
        _ms(started),
    )


def _not_run(cases: Sequence[Case], reason: str, secrets: Sequence[str] = ()) -> list[CaseResult]:
    return [CaseResult(c.name, c.tool, ERROR, reason, _expected(c, secrets), None, 0.0) for c in cases]


async def call_cases(plan: Plan, *, private_remotes: bool) -> list[CaseResult]:
    """Every case's result, in the set's order."""
    cases = plan.stored.testset.cases
    timeout = plan.stored.testset.timeout
    upstream = plan.upstream
    label = f"{plan.server}@{plan.version}"
    if upstream.problem is not None:
        return _not_run(cases, f"{label} cannot be reached: {upstream.problem.detail}")
    results: list[CaseResult] = []
    budget = min(timeout * (len(cases) + 1), MAX_RUN)
    try:
        with anyio.fail_after(budget):
            # The HTTP client's own timeout is the run's: each call's deadline is ``_call``'s, and
            # a read timeout inside the session would end it for every case after.
            async with connected(
                upstream.url, upstream.headers, private_remotes=private_remotes, timeout=budget
            ) as client:
                for case in cases:
                    results.append(await _call(client, case, timeout, plan.secrets))
    except RegistryError as exc:  # the private-address guard refused the upstream
        reason = f"{label} cannot be reached: {exc.detail}"
    except TimeoutError:
        reason = f"{label} did not answer within the run's {budget:g} s"
    except Exception as exc:  # any failure of the upstream is the run's finding, never the registry's
        reason = shorten(redact(f"{label} failed: {type(exc).__name__}: {exc}", plan.secrets), 500)
    else:
        return results
    return results + _not_run(cases[len(results) :], reason, plan.secrets)


def outcome(results: Sequence[CaseResult]) -> tuple[str, str]:
    """The run's result and its ``detail``: the first failing case and why."""
    failed = [r for r in results if r.result == FAIL]
    errors = [r for r in results if r.result == ERROR]
    if not failed and not errors:
        return PASS, f"all {len(results)} cases passed"
    first = failed[0] if failed else errors[0]
    others = len(failed) + len(errors) - 1
    more = f" ({others} more did not pass)" if others else ""
    verb = "failed" if first.result == FAIL else "could not run"
    return (FAIL if failed else ERROR), f"case {first.name!r} {verb}: {first.reason}{more}"


async def run_testset(
    engine: sa.Engine,
    keyring: KeyRing,
    settings: Settings,
    *,
    server: str,
    environment: str,
    testset: str,
    version: str | None,
    started_by: str,
    trigger: Trigger,
) -> Run:
    """Run the set on ``version`` (None: the canary, else stable) in ``environment`` and store the run.

    Raises ``RegistryError`` for what stops it before any call (no such set, server,
    environment or version, nothing deployed); everything the upstream does is in the run.
    """

    def plan() -> Plan:
        with unit_of_work(engine) as session:
            return plan_run(
                session, keyring, server=server, environment=environment, testset=testset, version=version
            )

    planned = await anyio.to_thread.run_sync(plan)
    started_at, started = utcnow(), time.perf_counter()
    results = await call_cases(planned, private_remotes=settings.allow_private_remotes)
    result, detail = outcome(results)
    elapsed = _ms(started)

    def record() -> Run:
        with unit_of_work(engine, write=True) as session:
            return record_run(
                session,
                planned,
                results,
                result=result,
                detail=detail,
                started_by=started_by,
                trigger=trigger,
                started_at=started_at,
                finished_at=utcnow(),
                elapsed_ms=elapsed,
            )

    run = await anyio.to_thread.run_sync(record)
    log.info(
        "test set %s of %s@%s in %s (%s): %s",
        run.testset,
        run.server,
        run.version,
        run.environment,
        started_by,
        detail,
    )
    return run
