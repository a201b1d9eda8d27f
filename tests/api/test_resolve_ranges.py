"""npm's range vectors through ``GET /api/servers/{name}/resolve``, on SQLite and PostgreSQL.

Every storable version of range-include.json and range-exclude.json (91 distinct ones)
is published once, as the only release of a server of its own; then every range is asked
of that server, so 200 with the version means "satisfies" and 404 ``no_matching_version``
means "does not". That runs 119 of the 120 strict include cases and 88 of the 91 strict
exclude cases: the include case with the empty range answers 422 (an empty ``range`` is
refused as missing; ``*`` says the same), and the 3 exclude cases whose version is no
version at all (``not a version``, ``glorp``, ``false``) cannot be published. Each strict
comparisons.json pair is published as the two releases of one server. The loose cases are
skipped as in tests/domain/test_ranges.py.
"""

from __future__ import annotations

from typing import Any

import httpx

from mcpreg.domain.versions import try_parse_version
from tests.conftest import publish, server_doc
from tests.domain.test_ranges import COMPARISONS, EXCLUDE, INCLUDE, case_id, require_semver_reference
from tests.support.problems import assert_problem

NAMESPACE = "io.github.npm-vectors"


def resolve(client: httpx.Client, name: str, range_: str | None, prerelease: bool = False) -> httpx.Response:
    params = {} if range_ is None else {"range": range_}
    if prerelease:
        params["prerelease"] = "true"
    return client.get(f"/api/servers/{name}/resolve", params=params)


def answer(response: httpx.Response) -> tuple[int, str | None]:
    """(200, version) or (status, problem code)."""
    body = response.json()
    return response.status_code, body.get("version") if response.status_code == 200 else body.get("code")


def storable(case: dict[str, Any]) -> bool:
    return isinstance(case["version"], str) and try_parse_version(case["version"]) is not None


def test_every_npm_range_vector_gives_npms_answer_through_the_endpoint(app_api: httpx.Client) -> None:
    require_semver_reference()
    versions = sorted({case["version"] for case in INCLUDE + EXCLUDE if storable(case)})
    servers = {version: f"{NAMESPACE}/v{i}" for i, version in enumerate(versions)}
    for version, name in servers.items():
        publish(app_api, server_doc(name=name, version=version))
    wrong, asked = [], {True: 0, False: 0}
    for satisfies, cases in ((True, INCLUDE), (False, EXCLUDE)):
        for case in cases:
            if not storable(case) or case["range"] == "":
                continue
            asked[satisfies] += 1
            response = resolve(app_api, servers[case["version"]], case["range"], case["includePrerelease"])
            expected = (200, case["version"]) if satisfies else (404, "no_matching_version")
            if answer(response) != expected:
                wrong.append(f"{case_id(case)}: {response.status_code} {response.text[:160]}")
            elif not satisfies:
                assert response.json()["field"] == "range"
    assert wrong == []
    assert (len(versions), asked[True], asked[False]) == (91, 119, 88)
    empty = [case for case in INCLUDE if case["range"] == ""]
    assert len(empty) == 1
    assert_problem(resolve(app_api, servers[empty[0]["version"]], ""), 422, "invalid_range", "range")
    assert answer(resolve(app_api, servers[empty[0]["version"]], "*")) == (200, empty[0]["version"])


def test_every_npm_comparison_orders_two_releases_through_the_endpoint(app_api: httpx.Client) -> None:
    require_semver_reference()
    wrong = []
    for i, case in enumerate(COMPARISONS):
        name, greater, lesser = f"{NAMESPACE}/pair{i}", case["greater"], case["lesser"]
        publish(app_api, server_doc(name=name, version=lesser))
        publish(app_api, server_doc(name=name, version=greater))
        answers = [
            answer(resolve(app_api, name, "*", prerelease=True)),
            answer(resolve(app_api, name, f"<{greater}", prerelease=True)),
            answer(resolve(app_api, name, f">={lesser}")),  # names lesser's major.minor.patch
        ]
        if answers != [(200, greater), (200, lesser), (200, greater)]:
            wrong.append(f"{case_id(case)}: {answers}")
    assert wrong == []
    assert len(COMPARISONS) == 19


NAME = f"{NAMESPACE}/issue"


def test_an_exact_prerelease_range_with_prerelease_true_answers_that_prerelease(
    app_api: httpx.Client,
) -> None:
    for version in ("1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.1.0"):
        publish(app_api, server_doc(name=NAME, version=version))
    assert answer(resolve(app_api, NAME, "1.1.0-rc.2", prerelease=True)) == (200, "1.1.0-rc.2")
    assert answer(resolve(app_api, NAME, "1.1.0-rc.2")) == (200, "1.1.0-rc.2")


def test_a_range_below_a_release_answers_its_highest_release_candidate(app_api: httpx.Client) -> None:
    for version in ("1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.1.0-rc.9", "1.1.0-rc.10", "1.1.0", "1.2.0-rc.1"):
        publish(app_api, server_doc(name=NAME, version=version))
    assert answer(resolve(app_api, NAME, ">=1.1.0-rc.1 <1.1.0")) == (200, "1.1.0-rc.10")
    assert answer(resolve(app_api, NAME, "^1.0.0")) == (200, "1.1.0")
    assert answer(resolve(app_api, NAME, "^1.0.0", prerelease=True)) == (200, "1.2.0-rc.1")


def test_a_missing_or_malformed_range_is_a_problem_naming_the_range(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(name=NAME, version="1.0.0"))
    for range_ in (None, "", "^^1", "1.2.3pre", f"{2**53}.0.0", "1.0.0 || " * 40 + "1.0.0"):
        assert_problem(resolve(app_api, NAME, range_), 422, "invalid_range", "range")
    assert_problem(
        resolve(app_api, NAME, f"^{2**53 - 1}.0.0", prerelease=True), 422, "invalid_range", "range"
    )
