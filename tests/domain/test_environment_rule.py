"""The environment-name rule itself (``mcpreg.domain.environments``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.environments import MAX_LENGTH, check_environment_name, is_environment_name
from mcpreg.errors import ValidationFailed


@given(st.from_regex(r"[a-z][a-z0-9-]{0,62}", fullmatch=True))
def test_every_lowercase_slug_up_to_63_characters_is_a_name(name: str) -> None:
    assert is_environment_name(name)
    assert check_environment_name(name) == name


@pytest.mark.parametrize("bad", ["", "Prod", "1prod", "prod_eu", "prod eu", "-prod", "p" * 64, None, 7])
def test_anything_else_is_refused_naming_the_field(bad: object) -> None:
    assert not is_environment_name(bad)
    with pytest.raises(ValidationFailed) as refused:
        check_environment_name(bad, field="env", code="invalid_environment")
    assert (refused.value.code, refused.value.field) == ("invalid_environment", "env")


def test_the_limit_is_a_dns_label() -> None:
    assert MAX_LENGTH == 63
