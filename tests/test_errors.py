"""Every error code is written literally, listed once in ``mcpreg.errors.CATALOGUE``, and in the README.

The collector reads ``src/mcpreg`` as source (an AST walk, nothing imported): the
``code = "..."`` defaults of classes, the ``code="..."`` keywords of calls, the string
defaults of parameters named ``code``, and the values of a module-level dict a ``code=``
looks up. A ``code=`` that builds its value (an f-string, a concatenation, a call) is
reported, so a code grepped for is a code found. A name or an attribute (``code=code``,
``code=exc.code``) passes on a code written elsewhere and is not a code of its own.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

import mcpreg.errors
from mcpreg.api.problems import HANDLERS, PROBLEM
from mcpreg.errors import CATALOGUE, ERROR_CODES, InternalError, MethodNotAllowed, RegistryError

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "mcpreg"
README = ROOT / "README.md"
# Codes no HTTP answer carries (status None in the catalogue) come from these folders only.
NOT_HTTP = ("cli/", "client/")


@dataclass(frozen=True)
class Use:
    """One place a code is written: where, and the class or function it is given to."""

    code: str
    where: str
    raiser: str | None


@dataclass
class Found:
    uses: list[Use] = field(default_factory=list)
    built: list[str] = field(default_factory=list)  # where a code= builds its value

    @property
    def codes(self) -> set[str]:
        return {use.code for use in self.uses}


class _Collector(ast.NodeVisitor):
    def __init__(self, where: str, found: Found, tables: dict[str, ast.Dict]) -> None:
        self.where, self.found, self.tables = where, found, tables
        self.classes: list[str] = []

    def _use(self, code: str, node: ast.AST, raiser: str | None) -> None:
        self.found.uses.append(Use(code, f"{self.where}:{getattr(node, 'lineno', 0)}", raiser))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for statement in node.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else []
            if isinstance(statement, ast.AnnAssign):
                targets = [statement.target]
            value = getattr(statement, "value", None)
            if any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    self._use(value.value, statement, node.name)
                elif value is not None and not (isinstance(value, ast.Constant) and value.value is None):
                    self.found.built.append(f"{self.where}:{statement.lineno}")
        self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = node.args
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
        for arg, default in pairs:
            if arg.arg == "code" and isinstance(default, ast.Constant) and isinstance(default.value, str):
                self._use(default.value, default, None)
        self.generic_visit(node)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        raiser = ast.unparse(node.func).rsplit(".", 1)[-1]
        for keyword in node.keywords:
            if keyword.arg == "code":
                self._value(keyword.value, raiser)
        self.generic_visit(node)

    def _value(self, value: ast.expr, raiser: str) -> None:
        if isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, str)):
            if value.value is not None:
                self._use(value.value, value, raiser)
        elif isinstance(value, ast.IfExp):
            self._value(value.body, raiser)
            self._value(value.orelse, raiser)
        elif (
            isinstance(value, ast.Subscript)
            and isinstance(value.value, ast.Name)
            and value.value.id in self.tables
        ):
            for entry in self.tables[value.value.id].values:
                self._value(entry, raiser)
        elif isinstance(value, ast.Name | ast.Attribute):
            pass  # passes on a code written elsewhere
        else:
            self.found.built.append(f"{self.where}:{value.lineno}")


def collect(source: str, where: str = "<source>", found: Found | None = None) -> Found:
    """Every code ``source`` writes, and every place it builds one instead."""
    found = found if found is not None else Found()
    tree = ast.parse(source)
    tables = {
        target.id: statement.value
        for statement in tree.body
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Dict)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    _Collector(where, found, tables).visit(tree)
    return found


def collect_src() -> Found:
    found = Found()
    for path in sorted(SRC.rglob("*.py")):
        collect(path.read_text(), path.relative_to(SRC).as_posix(), found)
    return found


def unlisted(found: Found, listed: frozenset[str]) -> list[str]:
    return sorted(f"{use.code} ({use.where})" for use in found.uses if use.code not in listed)


def readme_catalogue() -> dict[str, tuple[int | None, str]]:
    """The rows ``| `code` | status | meaning |`` of the README's "## Errors" section."""
    text = README.read_text()
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[int | None, str]] = {}
    for match in re.finditer(r"^\| `([a-z0-9_]+)` \| (\d{3}|-) \| (.+?) \|$", section, re.MULTILINE):
        code, status, meaning = match.groups()
        assert code not in rows, f"README lists {code} twice"
        rows[code] = (None if status == "-" else int(status), meaning)
    return rows


# -- the collector itself: each of these would let an unlisted code through if it were wrong --


def test_the_collector_finds_a_literal_code_keyword() -> None:
    found = collect('raise NotFound("gone", code="brand_new_code")')
    assert [(u.code, u.raiser) for u in found.uses] == [("brand_new_code", "NotFound")]
    assert unlisted(found, ERROR_CODES) == ["brand_new_code (<source>:1)"]


def test_the_collector_finds_class_defaults_and_parameter_defaults() -> None:
    source = (
        "class Gone(NotFound):\n"
        '    code = "gone_for_good"\n'
        'def check(value, *, code: str = "bad_value"):\n'
        "    raise ValidationFailed(value, code=code)\n"
    )
    assert collect(source).codes == {"gone_for_good", "bad_value"}
    assert not collect(source).built


def test_the_collector_reads_both_branches_and_looked_up_tables() -> None:
    source = (
        '_CODES = {"a": "first_code", "b": "second_code"}\n'
        'NotFound("x", code=_CODES[rule])\n'
        'NotFound("x", code="third_code" if kind == "v" else "fourth_code")\n'
    )
    assert collect(source).codes == {"first_code", "second_code", "third_code", "fourth_code"}


@pytest.mark.parametrize(
    "call",
    [
        'NotFound("x", code=f"{kind}_not_found")',
        'Conflict("x", code="name_is_" + kind)',
        'Conflict("x", code="name_is_{}".format(kind))',
        'Conflict("x", code=codes.get(status, "http_error"))',
    ],
)
def test_the_collector_reports_a_code_built_at_run_time(call: str) -> None:
    assert collect(call).built == ["<source>:1"]


def test_a_code_passed_on_is_not_a_code_of_its_own() -> None:
    found = collect('raise SecretDecryptFailed("x", code=exc.code)\nkind(detail, code=code)')
    assert not found.uses and not found.built


# -- the catalogue against the source and the README --


def test_every_code_in_src_is_written_literally() -> None:
    assert collect_src().built == []


def test_the_catalogue_lists_exactly_the_codes_in_src() -> None:
    found = collect_src()
    assert unlisted(found, ERROR_CODES) == []
    assert sorted(ERROR_CODES - found.codes) == []  # a listed code nothing raises is stale


def test_the_catalogue_lists_each_code_once_in_snake_case() -> None:
    codes = [entry.code for entry in CATALOGUE]
    assert len(codes) == len(set(codes)) == len(ERROR_CODES)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)
    assert all(entry.meaning and "|" not in entry.meaning for entry in CATALOGUE)


def test_each_code_has_the_status_of_the_class_that_raises_it() -> None:
    status = {entry.code: entry.status for entry in CATALOGUE}
    wrong: list[str] = []
    for use in collect_src().uses:
        kind = getattr(mcpreg.errors, use.raiser or "", None)
        if status[use.code] is None:
            if not use.where.startswith(NOT_HTTP):
                wrong.append(
                    f"{use.code} ({use.where}) is listed without a status but is not CLI/client code"
                )
        elif isinstance(kind, type) and issubclass(kind, RegistryError) and kind.status != status[use.code]:
            wrong.append(
                f"{use.code} ({use.where}) is a {kind.__name__} ({kind.status}), listed {status[use.code]}"
            )
    assert wrong == []


def test_the_readme_errors_section_lists_every_code_with_its_status_and_meaning() -> None:
    listed = readme_catalogue()
    assert listed == {entry.code: (entry.status, entry.meaning) for entry in CATALOGUE}


# -- the classes behind the HTTP-level answers --


def test_internal_error_and_method_not_allowed_are_classes_of_their_own() -> None:
    assert (InternalError.code, InternalError.status) == ("internal_error", 500)
    assert (MethodNotAllowed.code, MethodNotAllowed.status) == ("method_not_allowed", 405)
    assert InternalError("x").to_problem()["title"] == "Internal error"


def _app() -> Starlette:
    async def ok(request: Request) -> Response:
        return Response("ok")

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    async def teapot(request: Request) -> Response:
        raise HTTPException(418, headers={"X-Kept": "yes"})

    routes = [Route("/thing", ok, methods=["GET"]), Route("/broken", broken), Route("/teapot", teapot)]
    return Starlette(routes=routes, exception_handlers=HANDLERS)


def test_a_method_the_route_does_not_take_is_a_405_problem_naming_the_allowed_ones() -> None:
    with TestClient(_app()) as client:
        refused = client.post("/thing")
    assert refused.status_code == 405 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "method_not_allowed"
    assert set(refused.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}  # RFC 9110 15.5.6


def test_an_unknown_route_is_a_not_found_problem() -> None:
    with TestClient(_app()) as client:
        missing = client.get("/nothing")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["code"] == "not_found" and missing.json()["title"] == "Not found"


def test_an_unexpected_exception_is_a_500_internal_error_that_closes_the_connection() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        failed = client.get("/broken")
    assert failed.status_code == 500 and failed.headers["content-type"] == PROBLEM
    assert failed.json()["code"] == "internal_error" and failed.json()["title"] == "Internal error"
    assert failed.headers["connection"] == "close"


def test_an_http_exception_of_another_status_keeps_its_status_and_headers() -> None:
    with TestClient(_app()) as client:
        refused = client.get("/teapot")
    assert refused.status_code == 418 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "http_error" and refused.json()["status"] == 418
    assert refused.headers["x-kept"] == "yes"
