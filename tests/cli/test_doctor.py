"""``mcpreg doctor`` on a healthy deployment and on broken ones, as a real subprocess
against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from mcpreg.crypto import generate_entry
from mcpreg.services import doctor
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS, server_doc

NAME = "io.github.acme/weather"


def run_doctor(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    done = subprocess.run(
        [sys.executable, "-m", "mcpreg", "doctor", "--json"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    return done.returncode, {check["name"]: check for check in report["checks"]} | {"ok": report["ok"]}


def production_env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "MCPREG_DATABASE_URL": settings.database_url,
        "MCPREG_DATA_DIR": str(tmp_path / "doctor"),
        "MCPREG_SECRET_KEYS": TEST_KEYS,
        "MCPREG_SAMPLE_DATA": "0",
        "MCPREG_FORWARDED_ALLOW_IPS": "10.0.0.0/8",
        **extra,
    }


def deploy_with_remote(app_api: httpx.Client, url: str, version: str = "1.0.0") -> None:
    doc = server_doc(NAME, version, remotes=[{"type": "streamable-http", "url": url}])
    assert app_api.post("/v0.1/publish", json=doc).status_code == 200
    response = app_api.post("/api/environments/dev/deployments", json={"server": NAME, "version": version})
    assert response.status_code in (200, 201), response.text
    secret = app_api.put(f"/api/servers/{NAME}/secrets/API_KEY", json={"value": "sk-doctor-test"})
    assert secret.status_code in (200, 201), secret.text


def test_a_healthy_production_configuration_passes(
    app_api: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    deploy_with_remote(app_api, "https://127.0.0.2/mcp")
    code, checks = run_doctor(production_env(settings, tmp_path))
    assert code == 0, checks
    assert checks["ok"] is True
    for name in ("database", "migrations", "key ring", "stored secrets", "sample data", "proxy headers"):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["stored secrets"]["detail"] == "all 1 readable with this key ring"
    assert checks["gateway upstreams"]["status"] == "ok"
    assert "sk-doctor-test" not in json.dumps(checks)


def test_a_key_ring_that_cannot_read_the_stored_secrets_fails(
    app_api: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    deploy_with_remote(app_api, "https://127.0.0.2/mcp")
    other_ring = generate_entry("other1")
    code, checks = run_doctor(production_env(settings, tmp_path, MCPREG_SECRET_KEYS=other_ring))
    assert code == 1
    assert checks["key ring"]["status"] == "ok"
    assert checks["stored secrets"]["status"] == "fail"
    assert "1 of 1 cannot be read" in checks["stored secrets"]["detail"]
    assert "API_KEY" in checks["stored secrets"]["detail"]


def test_sample_data_on_and_no_proxy_header_trust_in_production_fail(
    app_api: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    env = production_env(settings, tmp_path, MCPREG_SAMPLE_DATA="1")
    del env["MCPREG_FORWARDED_ALLOW_IPS"]
    code, checks = run_doctor(env)
    assert code == 1
    assert checks["sample data"]["status"] == "fail"
    assert checks["proxy headers"]["status"] == "fail"


def test_an_upstream_host_that_does_not_resolve_fails(
    app_api: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    deploy_with_remote(app_api, "https://upstream.invalid/mcp")
    code, checks = run_doctor(production_env(settings, tmp_path))
    assert code == 1
    assert checks["gateway upstreams"]["status"] == "fail"
    assert "upstream.invalid (io.github.acme/weather@1.0.0)" in checks["gateway upstreams"]["detail"]


def test_a_missing_key_ring_and_an_unmigrated_database_fail(tmp_path: Path) -> None:
    env = {
        "MCPREG_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "MCPREG_DATA_DIR": str(tmp_path / "doctor"),
        "MCPREG_SAMPLE_DATA": "0",
        "MCPREG_FORWARDED_ALLOW_IPS": "*",
    }
    code, checks = run_doctor(env)
    assert code == 1
    assert checks["key ring"]["status"] == "fail"
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "fail"
    assert "mcpreg migrate" in checks["migrations"]["detail"]


def test_an_unreachable_database_fails_without_a_traceback(tmp_path: Path) -> None:
    env = {
        "MCPREG_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none",
        "MCPREG_SECRET_KEYS": TEST_KEYS,
        "MCPREG_SAMPLE_DATA": "0",
        "MCPREG_FORWARDED_ALLOW_IPS": "*",
    }
    code, checks = run_doctor(env)
    assert code == 1
    assert checks["database"]["status"] == "fail"
    assert "migrations" not in checks


def test_the_human_table_names_each_check(app_api: httpx.Client, settings: Settings, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    done = subprocess.run(
        [sys.executable, "-m", "mcpreg", "doctor"],
        env={**base, **production_env(settings, tmp_path), "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (
        "database",
        "migrations",
        "key ring",
        "stored secrets",
        "gateway upstreams",
        "ready to go live",
    ):
        assert name in done.stdout


@pytest.mark.parametrize(
    ("hosts", "resolvable", "status"),
    [
        ([], set(), "ok"),
        (["a.example"], {"a.example"}, "ok"),
        (["a.example", "b.example"], {"a.example"}, "fail"),
    ],
)
def test_upstream_checks_judge_each_deployed_remote_host(
    session: Session, hosts: list[str], resolvable: set[str], status: str
) -> None:
    from mcpreg.domain.deploy_requests import parse_deploy
    from mcpreg.domain.principal import SYSTEM
    from mcpreg.services import releases
    from mcpreg.services.deploy.deployments import deploy

    for index, host in enumerate(hosts):
        name = f"io.github.acme/s{index}"
        document = server_doc(
            name, "1.0.0", remotes=[{"type": "streamable-http", "url": f"https://{host}/mcp"}]
        )
        releases.create_release(session, SYSTEM, document)
        session.commit()
        deploy(session, SYSTEM, "dev", parse_deploy({"server": name, "version": "1.0.0"}))
        session.commit()
    (check,) = doctor.upstream_checks(session, resolver=lambda host: host in resolvable)
    assert check.status == status
