"""``mcpreg serve`` on its embedded defaults: SQLite in the data dir, sample catalogue loaded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], cwd: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcpreg", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"mcpreg serve exited: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                if httpx.get(f"{url}/v0.1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("mcpreg serve did not become healthy in 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    env.update(extra)
    return env


@pytest.mark.slow
def test_serve_on_defaults_serves_the_sample_catalogue_once(tmp_path: Path) -> None:
    (tmp_path / "registry-data").symlink_to(ROOT / "registry-data")
    env = clean_env(tmp_path, MCPREG_DEV="1")
    with serving(env, tmp_path) as url:
        servers = httpx.get(f"{url}/v0.1/servers", params={"version": "latest", "limit": 100}).json()[
            "servers"
        ]
        assert len(servers) >= 12
        total = len(httpx.get(f"{url}/v0.1/servers", params={"limit": 100}).json()["servers"])
    assert (tmp_path / ".mcpreg" / "mcpreg.db").is_file()
    with serving(env, tmp_path) as url:
        again = httpx.get(f"{url}/v0.1/servers", params={"limit": 100}).json()["servers"]
        assert len(again) == total, "a restart does not load the catalogue twice"


@pytest.mark.slow
def test_serve_outside_dev_mode_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    env = clean_env(tmp_path, MCPREG_SAMPLE_DATA="0")
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
