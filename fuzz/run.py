"""``make fuzz``: schemathesis against a live mcpreg, on both of its API descriptions.

Starts a real ``mcpreg serve`` on a fresh SQLite database with the sample catalogue
(``registry-data/``) and an admin token, then runs schemathesis twice, each bounded by
``--max-time``:

* against ``/api/openapi.json`` (mcpreg's own document): no 5xx, every status, content
  type and body as the document says (the problem+json ``code`` included);
* against the official ``../shared/registry-reference/openapi.yaml`` (the ``/v0.1`` routes):
  no 5xx and every body the official document describes as it describes it.

Exits 1 when either run fails, printing schemathesis' report (each failure with a curl
line to replay it). ``FUZZ_API_SECONDS``, ``FUZZ_OFFICIAL_SECONDS`` and ``FUZZ_SEED`` tune it;
``MCPREG_REQUIRE_SHARED=1`` (CI) makes a missing official document a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = ROOT.parent / "shared" / "registry-reference" / "openapi.yaml"
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
API_CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
OFFICIAL_CHECKS = "not_a_server_error,response_schema_conformance"
# Left out (tests/api/test_openapi_responses.py answers both against the document): revoking
# tokens, as the run would revoke its own admin token and test nothing after; syncing an
# upstream, which reads whatever URL the run declared (a 502 when it cannot: not mcpreg's fault).
API_EXCLUDED = ("delete_tokens_by_name", "post_upstreams_by_name_sync")


@dataclass
class Run:
    name: str
    code: int
    cases: int
    failures: int
    output: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    env.update(
        {
            "MCPREG_DATABASE_URL": f"sqlite:///{data / 'fuzz.db'}",
            "MCPREG_DATA_DIR": str(data),
            "MCPREG_DEV": "1",  # a generated key ring: nothing here outlives the run
            "MCPREG_SAMPLE_DATA_PATH": str(ROOT / "registry-data"),
            "MCPREG_ACCESS_LOG": "0",
            # Nothing leaves the machine: no background sync of the upstreams the run declares,
            # no probes of the sample catalogue's remotes, no POSTs to the gates' and alerts' URLs.
            "MCPREG_MIRROR_SYNC": "0",
            "MCPREG_HEALTH_CHECKS": "0",
            "MCPREG_WEBHOOKS": "0",
        }
    )
    return env


def _admin_token(env: dict[str, str]) -> str:
    subprocess.run([str(BIN / "mcpreg"), "migrate"], env=env, check=True, capture_output=True, timeout=120)
    made = subprocess.run(
        [str(BIN / "mcpreg"), "tokens", "create", "--name", "fuzz-admin", "--scope", "admin", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    token: str = json.loads(made.stdout)["token"]
    return token


@contextmanager
def _serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """``mcpreg serve`` on a free port until the block ends; yields its URL once it is ready."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "mcpreg"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"mcpreg serve exited ({process.returncode}):\n{log.read_text()}")
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"mcpreg serve not ready within {START_TIMEOUT:.0f}s:\n{log.read_text()}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _schemathesis(name: str, location: str, args: list[str], seconds: int, token: str) -> Run:
    seed = os.environ.get("FUZZ_SEED", "20261201")
    command = [
        str(BIN / "schemathesis"),
        "run",
        location,
        *args,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-time",
        str(seconds),
        "--seed",
        seed,
        # One worker: schemathesis' threads race in ast.parse on CPython 3.11 ("AST constructor
        # recursion depth mismatch", a crash of the tool, not a finding about mcpreg).
        "--workers",
        "1",
        "--no-color",
        "--warnings",
        "off",
    ]
    print(f"==> schemathesis: {name} ({seconds}s, seed {seed})", flush=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    output = done.stdout + done.stderr
    generated = re.search(r"(\d+) generated", output)
    failures = re.search(r"(\d+) found (\d+) unique failures", output)
    return Run(
        name,
        done.returncode,
        int(generated.group(1)) if generated else 0,
        int(failures.group(2)) if failures else 0,
        output,
    )


def _errors(log: str) -> str:
    """The log's error records with their tracebacks (everything from an ERROR line to the next record)."""
    kept: list[str] = []
    keeping = False
    for line in log.splitlines():
        if re.match(r"^(INFO|WARNING|DEBUG|ERROR|CRITICAL)\b", line):
            keeping = line.startswith(("ERROR", "CRITICAL"))
        if keeping:
            kept.append(line)
    return "\n".join(kept) or "(none)"


def main() -> int:
    api_seconds = int(os.environ.get("FUZZ_API_SECONDS", "40"))
    official_seconds = int(os.environ.get("FUZZ_OFFICIAL_SECONDS", "25"))
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="mcpreg-fuzz-") as tmp:
        data = Path(tmp)
        env = _environment(data)
        token = _admin_token(env)
        with _serving(env, data / "serve.log") as url:
            api_args = ["--checks", API_CHECKS, *[f"--exclude-operation-id={o}" for o in API_EXCLUDED]]
            if api_seconds:  # 0 skips a run
                runs.append(
                    _schemathesis(
                        "/api/openapi.json", f"{url}/api/openapi.json", api_args, api_seconds, token
                    )
                )
            if not official_seconds:
                pass
            elif OFFICIAL.is_file():
                official_args = ["--url", url, "--checks", OFFICIAL_CHECKS]
                runs.append(
                    _schemathesis(
                        "official openapi.yaml", str(OFFICIAL), official_args, official_seconds, token
                    )
                )
            elif os.environ.get("MCPREG_REQUIRE_SHARED") == "1":
                print(f"{OFFICIAL} is required here (MCPREG_REQUIRE_SHARED=1) but is absent")
                return 1
            else:
                print(f"skipped the official run: {OFFICIAL} is absent")
            failed = [run for run in runs if run.code != 0]
            for run in failed:
                print(run.output)
            if failed:  # the server's side of each 5xx: its tracebacks
                print("==> mcpreg serve log (errors):")
                print(_errors((data / "serve.log").read_text(errors="replace")))
    for run in runs:
        print(f"{run.name}: {run.cases} cases, {run.failures} failures (exit {run.code})")
    cases, failures = sum(run.cases for run in runs), sum(run.failures for run in runs)
    # The plain closing line (test cases): failing cases, or a run that failed before any case.
    print(f"fuzz: {cases - failures} passed, {failures or len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
