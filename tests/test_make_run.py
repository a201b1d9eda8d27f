"""``make run`` says what it does while it installs, instead of pausing silently for a minute.

The install runs against a stub virtualenv (a ``python`` and an ``mcpreg`` that only record
their arguments), so the test checks the Makefile's own messages and order, not pip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("make") is None, reason="needs make")]

STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
"""


def stub_venv(tmp_path: Path) -> tuple[Path, Path]:
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    (venv / "bin").mkdir(parents=True)
    for tool in ("python", "mcpreg"):
        path = venv / "bin" / tool
        path.write_text(STUB.format(log=log))
        path.chmod(0o755)
    return venv, log


def make_run(venv: Path) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "run", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_make_run_announces_the_install_before_it_starts_and_then_what_it_serves(tmp_path: Path) -> None:
    venv, log = stub_venv(tmp_path)
    lines = make_run(venv).splitlines()
    announced = [line for line in lines if line.startswith("==> ")]
    assert any("installing mcpreg and its dependencies" in line for line in announced), lines
    assert any("http://127.0.0.1:8080" in line for line in announced), lines
    install = next(i for i, line in enumerate(lines) if "installing mcpreg" in line)
    pip = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert install < pip, "the message comes before the silent pip run"
    assert "mcpreg serve --host 127.0.0.1 --port 8080" in log.read_text()


def test_make_run_says_when_it_creates_the_virtualenv(tmp_path: Path) -> None:
    venv = tmp_path / "fresh"
    fake_python = tmp_path / "python3"
    fake_python.write_text(
        f'#!/bin/sh\nmkdir -p "{venv}/bin"\n'
        f'for t in python mcpreg; do printf "#!/bin/sh\\n" > "{venv}/bin/$t"; '
        f'chmod +x "{venv}/bin/$t"; done\n'
    )
    fake_python.chmod(0o755)
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "run", f"VENV={venv}", f"PY={fake_python}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert any(line.startswith("==> creating the virtualenv") for line in done.stdout.splitlines())
