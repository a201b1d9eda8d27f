"""Test sets of a server and their runs: the public models, and how they are built.

The services return dataclasses (``services.testsets.sets.StoredSet``, ``runs.Run``);
the handlers answer these models, built here from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Body, Omitted, Query
from mcpreg.api.schemas.operations import Operation
from mcpreg.domain.testsets import MAX_CASES, MAX_REGEX, MAX_TIMEOUT
from mcpreg.services.testsets.runs import CaseResult, Run
from mcpreg.services.testsets.sets import StoredSet

Result = Literal["pass", "fail", "error"]


class Expect(Body):
    """Exactly one of ``exact``, ``subset`` or ``regex`` (or only ``isError: true``)."""

    exact: Any | Omitted = Field(
        default=None, description="equals the structuredContent, the text, or the text read as JSON"
    )
    subset: dict[str, Any] | list[Any] | Omitted = Field(
        default=None, description="contained in the result's JSON, as PostgreSQL's jsonb @> reads it"
    )
    regex: str | Omitted = Field(
        default=None, max_length=MAX_REGEX, description="a regular expression found in the text content"
    )
    is_error: bool = Field(default=False, description="the tool is expected to answer an error result")


class Case(Body):
    name: str = Field(description="unique in the set")
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    expect: Expect


class TestSetBody(Body):
    __test__ = False  # not a pytest test class

    description: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT, description="for each call")
    cases: list[Case] = Field(min_length=1, max_length=MAX_CASES)


class TestSetAnswer(Answer):
    __test__ = False  # not a pytest test class

    server: str
    name: str
    revision: int = Field(description="moves on with each change of the document")
    description: str
    timeout_seconds: float
    cases: list[dict[str, Any]] = Field(description="each case with its defaults written out")
    created_at: datetime
    updated_at: datetime
    updated_by: str


class TestSetSummary(Answer):
    __test__ = False  # not a pytest test class

    name: str
    revision: int
    description: str
    cases: int
    updated_at: datetime
    updated_by: str


class TestSetList(Answer):
    __test__ = False  # not a pytest test class

    server: str
    testsets: list[TestSetSummary]


class CaseAnswer(Answer):
    name: str
    tool: str
    result: Result = Field(description="fail: the answer missed; error: no answer (timeout, unreachable)")
    reason: str = Field(description="why it did not pass (empty when it did)")
    expected: str = Field(description="the expectation as JSON, cut to 4 KB")
    got: str | None = Field(
        description="what came back as JSON (isError, text, structuredContent), cut to 4 KB"
    )
    elapsed_ms: float


class RunAnswer(Answer):
    id: int
    server: str
    testset: str
    revision: int = Field(description="the revision of the set that ran")
    environment: str
    version: str
    track: Literal["stable", "canary"] | None = Field(description="what the version was there; null: neither")
    started_by: str = Field(description="the token's name, or gate")
    trigger: Literal["person", "gate"]
    result: Result
    detail: str = Field(description="the first failing case and why")
    total: int
    failed: int = Field(description="cases that did not pass")
    failing: list[str]
    started_at: datetime
    finished_at: datetime
    elapsed_ms: float
    cases: list[CaseAnswer] | None = Field(default=None, description="left out of listings")


class RunList(Answer):
    server: str
    testset: str
    runs: list[RunAnswer] = Field(description="newest first, without their cases")


class RunsQuery(Query):
    limit: int = Field(default=20, ge=1, le=100)


class RunBody(Body):
    environment: str
    version: str | Omitted = Field(
        default=None, description="default: the canary while one runs, else stable"
    )


def testset_answer(stored: StoredSet) -> dict[str, Any]:
    document = stored.testset.to_dict()
    return TestSetAnswer(
        server=stored.server,
        name=stored.name,
        revision=stored.revision,
        description=document["description"],
        timeout_seconds=document["timeoutSeconds"],
        cases=document["cases"],
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        updated_by=stored.updated_by,
    ).model_dump(mode="json", by_alias=True)


def testset_list(server: str, sets: list[StoredSet]) -> dict[str, Any]:
    return TestSetList(
        server=server,
        testsets=[
            TestSetSummary(
                name=s.name,
                revision=s.revision,
                description=s.testset.description,
                cases=len(s.testset.cases),
                updated_at=s.updated_at,
                updated_by=s.updated_by,
            )
            for s in sets
        ],
    ).model_dump(mode="json", by_alias=True)


def _case(case: CaseResult) -> CaseAnswer:
    return CaseAnswer(
        name=case.name,
        tool=case.tool,
        result=case.result,
        reason=case.reason,
        expected=case.expected,
        got=case.got,
        elapsed_ms=case.elapsed_ms,
    )


def _run(run: Run, *, with_cases: bool) -> RunAnswer:
    return RunAnswer(
        id=run.id,
        server=run.server,
        testset=run.testset,
        revision=run.revision,
        environment=run.environment,
        version=run.version,
        track=run.track,
        started_by=run.started_by,
        trigger=run.trigger,
        result=run.result,
        detail=run.detail,
        total=run.total,
        failed=run.failed,
        failing=list(run.failing),
        started_at=run.started_at,
        finished_at=run.finished_at,
        elapsed_ms=run.elapsed_ms,
        cases=[_case(c) for c in run.cases] if with_cases else None,
    )


def run_answer(run: Run) -> dict[str, Any]:
    return _run(run, with_cases=True).model_dump(mode="json", by_alias=True)


def run_list(server: str, testset: str, runs: list[Run]) -> dict[str, Any]:
    listed = RunList(server=server, testset=testset, runs=[_run(r, with_cases=False) for r in runs])
    return listed.model_dump(mode="json", by_alias=True, exclude={"runs": {"__all__": {"cases"}}})


SERVER = "/api/servers/{namespace}/{server}"
SETS = f"{SERVER}/testsets"
SET = f"{SETS}/{{testset}}"
RUNS = f"{SET}/runs"
TAG = "test sets"
_SET = ("testset_not_found",)

OPERATIONS = (
    Operation("GET", SETS, "The server's test sets", TAG, answer=TestSetList, auth="required"),
    Operation(
        "GET",
        SET,
        "One test set with its cases",
        TAG,
        answer=TestSetAnswer,
        auth="required",
        codes=(*_SET, "validation_failed"),
    ),
    Operation(
        "PUT",
        SET,
        "Store a test set (created: 201)",
        TAG,
        answer=TestSetAnswer,
        also=(201,),
        body=TestSetBody,
        auth="required",
        codes=("validation_failed",),
        description="Needs the publish scope over the server. A bad case is refused naming its field, "
        "such as `cases[2].expect.regex`.",
    ),
    Operation(
        "DELETE",
        SET,
        "Remove a test set (its runs stay)",
        TAG,
        answer=None,
        status=204,
        auth="required",
        codes=(*_SET, "validation_failed"),
    ),
    Operation(
        "POST",
        RUNS,
        "Run a test set on a version in an environment, and store the run",
        TAG,
        answer=RunAnswer,
        status=201,
        body=RunBody,
        auth="required",
        codes=(
            *_SET,
            "validation_failed",
            "environment_not_found",
            "environment_denied",
            "no_deployment",
            "version_not_found",
            "invalid_version",
            "release_is_draft",
        ),
        description="Needs the deploy scope over the server and the environment. The cases are called "
        "with the real MCP client on the version's upstream, as the gateway reaches it; the answer is "
        "the stored run (201), whatever its result.",
    ),
    Operation(
        "GET",
        RUNS,
        "The test set's runs, newest first",
        TAG,
        answer=RunList,
        query=RunsQuery,
        auth="required",
        codes=(*_SET, "validation_failed"),
    ),
    Operation(
        "GET",
        f"{RUNS}/{{id:int}}",
        "One run with each case's result",
        TAG,
        answer=RunAnswer,
        auth="required",
        codes=("testset_run_not_found", "validation_failed"),
    ),
)
