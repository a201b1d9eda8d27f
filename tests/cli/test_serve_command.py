"""``mcpreg serve`` on its embedded defaults: SQLite in the data dir, sample catalogue loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.support.served import free_port, running_serve, serve_env


@pytest.mark.slow
def test_serve_on_defaults_serves_the_sample_catalogue_once(tmp_path: Path) -> None:
    (tmp_path / "registry-data").symlink_to(ROOT / "registry-data")
    env = serve_env(MCPREG_DEV="1")
    with running_serve(env, tmp_path / "serve.log", cwd=tmp_path) as first:
        url = first.url
        servers = httpx.get(f"{url}/v0.1/servers", params={"version": "latest", "limit": 100}).json()[
            "servers"
        ]
        assert len(servers) >= 12
        total = len(httpx.get(f"{url}/v0.1/servers", params={"limit": 100}).json()["servers"])
    assert (tmp_path / ".mcpreg" / "mcpreg.db").is_file()
    with running_serve(env, tmp_path / "serve-again.log", cwd=tmp_path) as second:
        url = second.url
        again = httpx.get(f"{url}/v0.1/servers", params={"limit": 100}).json()["servers"]
        assert len(again) == total, "a restart does not load the catalogue twice"


@pytest.mark.slow
def test_serve_outside_dev_mode_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    env = serve_env(MCPREG_SAMPLE_DATA="0")
    result = subprocess.run(
        [sys.executable, "-m", "mcpreg", "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "MCPREG_SECRET_KEYS" in result.stderr
    assert "Traceback" not in result.stderr
