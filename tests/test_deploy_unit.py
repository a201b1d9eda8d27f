"""deploy/: every way of running a replica gives it enough file descriptors for its connections."""

from __future__ import annotations

import configparser

import yaml

from tests.conftest import ROOT


def _service_section() -> configparser.SectionProxy:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read_string((ROOT / "deploy" / "mcpreg.service").read_text())
    return unit["Service"]


def test_the_unit_raises_the_open_file_limit_for_many_client_connections() -> None:
    assert int(_service_section()["LimitNOFILE"]) >= 65536


def test_the_compose_replicas_raise_the_open_file_limit() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    replicas = [name for name in compose["services"] if name.startswith("mcpreg")]
    assert replicas
    for name in replicas:
        assert compose["services"][name]["ulimits"]["nofile"]["soft"] >= 65536, name
