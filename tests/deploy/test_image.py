"""What the container image is made of, proven without a Docker engine.

The Dockerfile installs deploy/requirements.txt, then the package with ``--no-deps``:
so the pins must cover mcpreg's whole runtime closure and satisfy pyproject's ranges.
The wheel test installs the built wheel into a fresh virtualenv outside the source
tree and serves from it (the API, the migrations, the console's pages and static files):
package data or migrations missing from the wheel fail here.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT
from tests.support.served import free_port
from tests.support.waiting import wait_until

DEPLOY = ROOT / "deploy"
sys.path.insert(0, str(DEPLOY))
import pin  # noqa: E402  (deploy/pin.py, the generator of requirements.txt)

sys.path.remove(str(DEPLOY))


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (DEPLOY / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def test_the_image_pins_every_runtime_dependency_within_pyproject_ranges() -> None:
    pins = _pins()
    assert set(pin.closure()) == set(pins), "run `make pins`"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, name
        assert requirement.specifier.contains(pins[name], prereleases=True), (text, pins[name])


def test_the_dockerfile_installs_the_pins_only_and_runs_unprivileged_with_a_health_check() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 2, "a multi-stage build"
    assert all(":" in stage.split()[1] and "latest" not in stage for stage in stages)
    assert "pip install -r requirements.txt" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/v0.1/health" in dockerfile


@pytest.mark.slow
def test_the_wheel_installed_outside_the_source_tree_serves_and_migrates(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run(
        ["make", "dist", f"DIST={dist}"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("mcpreg-*.whl")

    outside = tmp_path / "elsewhere"
    venv.create(outside / "venv", with_pip=True)
    python = outside / "venv" / "bin" / "python"
    for args in (["-r", str(DEPLOY / "requirements.txt")], ["--no-deps", str(wheel)]):
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]

    port = free_port()
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCPREG_", "PYTHON"))}
    env.update(
        {
            "MCPREG_DATA_DIR": str(outside / "data"),
            "MCPREG_SECRET_KEYS": f"wheel1:{key}",
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
    )
    process = subprocess.Popen(
        [str(outside / "venv" / "bin" / "mcpreg"), "serve", "--port", str(port)],
        cwd=outside,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def serving() -> httpx.Response | None:
            assert process.poll() is None, process.communicate()[0]
            try:
                return httpx.get(url + "/v0.1/health", timeout=2)
            except httpx.TransportError:
                return None

        health = wait_until(serving, timeout=60, what="the installed wheel serving", every=0.1)
        assert health.status_code == 200
        assert httpx.get(url + "/readyz", timeout=5).status_code == 200  # migrated from the wheel's files
        assert httpx.get(url + "/v0.1/servers", timeout=5).json()["servers"] == []
        # The console's templates and static files came with the wheel (package data).
        console = httpx.get(url + "/console/", timeout=5)
        assert console.status_code == 200 and console.headers["content-type"].startswith("text/html")
        assert "<h1" in console.text and "/console/static/console.css" in console.text
        for asset, kind in (("console.css", "text/css"), ("live.js", "javascript")):
            static = httpx.get(f"{url}/console/static/{asset}", timeout=5)
            assert static.status_code == 200 and kind in static.headers["content-type"], asset
        # It ran from the wheel, not from this checkout.
        located = subprocess.run(
            [str(python), "-c", "import mcpreg; print(mcpreg.__file__)"], capture_output=True, text=True
        )
        assert str(outside) in located.stdout and str(ROOT / "src") not in located.stdout
    finally:
        process.terminate()
        process.wait(timeout=30)
