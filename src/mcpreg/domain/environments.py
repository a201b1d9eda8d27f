"""The environment-name rule, in one place.

An environment name is 1-63 lowercase letters, digits or '-', starting with a letter
(a DNS label's length, so it fits host names, Kubernetes namespaces and our
64-character columns). Creating an environment, addressing one in configuration and
resolving against one all check this same rule.
"""

from __future__ import annotations

import re

from mcpreg.errors import ValidationFailed

MAX_LENGTH = 63
PATTERN = re.compile(rf"[a-z][a-z0-9-]{{0,{MAX_LENGTH - 1}}}")
RULE = f"an environment name is 1-{MAX_LENGTH} lowercase letters, digits or '-', starting with a letter"


def is_environment_name(value: object) -> bool:
    return isinstance(value, str) and PATTERN.fullmatch(value) is not None


def check_environment_name(
    value: object, *, field: str = "environment", code: str = "invalid_environment_name"
) -> str:
    """``value`` when it is a legal environment name, else 422 naming ``field``."""
    if not is_environment_name(value):
        raise ValidationFailed(RULE, field=field, code=code)
    assert isinstance(value, str)
    return value
