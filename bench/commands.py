"""The ``mcpreg`` command line as the benchmark uses it: help, import, tokens."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.backends import Database

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_\-\.~+/=:]{20,}")


def mcpreg_executable() -> Path:
    """The console script next to the running interpreter (``.venv/bin/mcpreg``)."""
    return Path(sys.executable).parent / "mcpreg"


def production_env(db: Database, secret_keys: str) -> dict[str, str]:
    """The process environment for production mode against ``db``, without sample data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    env.update(db.env)
    env["MCPREG_SAMPLE_DATA"] = "0"
    env["MCPREG_SECRET_KEYS"] = secret_keys
    env["MCPREG_ACCESS_LOG"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def new_secret_keys() -> str:
    """A one-key ring ``k1:<urlsafe base64 of 32 random bytes>``."""
    return "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Completed:
    """A finished command: exit code, wall seconds and its output."""

    returncode: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 6) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " | ".join(text[-lines:])


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Completed:
    """Run ``mcpreg <args>`` to completion (bounded by ``timeout``) and time it."""
    exe = mcpreg_executable()
    if not exe.exists():
        return Completed(127, 0.0, "", f"{exe} does not exist")
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(exe), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return Completed(124, time.perf_counter() - started, out, f"timed out after {timeout:.0f}s")
    return Completed(proc.returncode, time.perf_counter() - started, proc.stdout, proc.stderr)


def serve_help(cwd: Path) -> tuple[str | None, str]:
    """``mcpreg serve --help`` text (None when the command is not available yet) and why not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    env["MCPREG_DEV"] = "1"
    done = run(["serve", "--help"], env, cwd, timeout=30)
    return (done.stdout, "") if done.ok else (None, done.tail(1))


def serve_flags(help_text: str) -> tuple[list[str], list[str]]:
    """Extra ``serve`` flags for one worker, quiet logs and no access log, with notes."""
    flags: list[str] = []
    notes: list[str] = []
    if "--workers" in help_text:
        flags += ["--workers", "1"]
    if "--log-level" in help_text:
        flags += ["--log-level", "warning"]
    if "--no-access-log" in help_text:
        flags.append("--no-access-log")
        notes.append("access log off via --no-access-log (and MCPREG_ACCESS_LOG=0)")
    else:
        notes.append("serve has no access-log flag; MCPREG_ACCESS_LOG=0 set in its environment")
    return flags, notes


def create_token(env: dict[str, str], cwd: Path, name: str = "bench") -> tuple[str | None, str]:
    """``mcpreg tokens create --name NAME --scope admin [--json]``: the bearer token, and a note."""
    base = ["tokens", "create", "--name", name, "--scope", "admin"]
    done = run([*base, "--json"], env, cwd, timeout=60)
    if done.returncode == 2:
        done = run(base, env, cwd, timeout=60)
    if not done.ok:
        return None, f"tokens create failed ({done.returncode}): {done.tail()}"
    with contextlib.suppress(ValueError, AttributeError):
        token = json.loads(done.stdout.strip().splitlines()[-1]).get("token")
        if isinstance(token, str) and token:
            return token, "admin token created"
    candidates = TOKEN_PATTERN.findall(done.stdout)
    if not candidates:
        return None, f"tokens create printed no token: {done.stdout.strip()[:200]}"
    return candidates[-1], "admin token created"
