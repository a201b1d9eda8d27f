"""deploy/mcpreg.service, read the way systemd reads it."""

from __future__ import annotations

import configparser

from tests.conftest import ROOT


def _service_section() -> configparser.SectionProxy:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read_string((ROOT / "deploy" / "mcpreg.service").read_text())
    return unit["Service"]


def test_the_unit_raises_the_open_file_limit_for_many_client_connections() -> None:
    assert int(_service_section()["LimitNOFILE"]) >= 65536
