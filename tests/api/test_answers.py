"""Public models as answers: built from a service's typed result, written as the wire shape.

Services return frozen dataclasses (or rows); ``Answer.of`` reads them by attribute and
``api.http.json_response`` writes the model by alias. The bytes are those orjson writes of
the same JSON values (no spaces, UTF-8, times in RFC 3339 with ``Z``), a ``LeftOut`` key is
left out rather than written ``null``, and the journal keeps a result under the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from pydantic import Field

from mcpreg.api.http import json_response
from mcpreg.api.schemas.base import Answer, LeftOut, Omitted
from mcpreg.api.schemas.deployments import Target
from mcpreg.services import journal
from mcpreg.services.deploy.states import TargetInfo

AT = datetime(2026, 12, 1, 13, 15, 4, 280000, tzinfo=UTC)


@dataclass(frozen=True)
class Shown:
    name: str
    created_at: datetime
    created_by: str | None
    tags: tuple[str, ...]
    note: str | None = None


class ShownAnswer(Answer):
    name: str
    created_at: datetime
    created_by: str | None
    tags: list[str]
    note: str | Omitted = LeftOut
    share: float = Field(default=0.5)


def test_an_answer_is_read_from_a_results_attributes_and_written_by_alias() -> None:
    answer = ShownAnswer.of(Shown("météo ☃", AT, None, ("a", "b")))
    body = json_response(None, answer).body
    assert body == orjson.dumps(
        {
            "name": "météo ☃",
            "createdAt": "2026-12-01T13:15:04.280000Z",
            "createdBy": None,
            "tags": ["a", "b"],
            "share": 0.5,
        }
    )


def test_a_left_out_key_is_absent_when_none_and_written_when_set() -> None:
    assert "note" not in orjson.loads(json_response(None, ShownAnswer.of(Shown("x", AT, "a", ()))).body)
    written = orjson.loads(json_response(None, ShownAnswer.of(Shown("x", AT, "a", (), note="n"))).body)
    assert written["note"] == "n"


def test_a_left_out_key_is_documented_as_optional_and_never_null() -> None:
    schema = ShownAnswer.model_json_schema(mode="serialization")
    assert schema["properties"]["note"] == {"title": "Note", "type": "string", "default": None}
    assert "note" not in schema["required"]


def test_the_journal_keeps_a_result_under_the_keys_of_its_answer() -> None:
    result = Shown("x", AT, "alice", ("a",))
    kept = journal.snapshot(result)
    assert kept == {
        "name": "x",
        "createdAt": "2026-12-01T13:15:04.280000Z",
        "createdBy": "alice",
        "tags": ["a"],
        "note": None,
    }
    answered = orjson.loads(json_response(None, ShownAnswer.of(result)).body)
    del kept["note"], answered["share"]  # left out of the answer; not in the result
    assert kept == answered


def test_a_whole_weight_is_written_as_an_integer_and_a_fraction_as_it_is() -> None:
    def target(weight: float) -> TargetInfo:
        return TargetInfo(
            "io.github.acme/weather", "production", "1.0.0", "1.1.0", weight, "r1", "canary", "progressing",
            True, None, [{"weight": 25}, {"weight": 100}], None, None, None, None, AT, "alice", 3,
        )  # fmt: skip

    whole = json_response(None, Target.of(target(25.0))).body
    assert b'"weight":25,' in whole and b'"steps":[{"weight":25},{"weight":100}]' in whole
    assert b'"weight":12.5,' in json_response(None, Target.of(target(12.5))).body
