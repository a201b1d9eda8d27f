"""A fresh ``make run`` in a temporary directory, and a terminal to follow the README in.

``MakeRun`` starts ``mcpreg serve`` as ``make run`` does (the venv's entry point, dev mode,
SQLite under ``./.mcpreg``, the sample catalogue from ``./registry-data``), on a free port
instead of 8080 so tests can run side by side. ``Terminal`` runs README blocks one after
another like a reader's shell: ``sh`` blocks in bash with ``set -e`` and ``pipefail``, the
variables a block sets kept for the next one, ``mcpreg`` the venv's on ``PATH``; ``python``
blocks with the venv's python. The one rewrite: ``http://127.0.0.1:8080`` becomes the real
address. ``curl`` runs with ``--fail-with-body``, so a refused request fails its block.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.support.readme import Block
from tests.support.served import free_port, wait_healthy

MAKE_RUN_URL = "http://127.0.0.1:8080"
VENV_BIN = Path(sys.executable).parent
BLOCK_TIMEOUT = 180.0

# Before each sh block: strict mode, the previous blocks' variables, curl that fails on 4xx/5xx,
# and a trap naming the README line that failed. One line, so block line k is script line k + 1.
PRELUDE = (
    "set -eo pipefail; . {state}; "
    'curl() {{ command curl --fail-with-body "$@" || return $?; }}; '
    "trap 'rc=$?; echo \"README.md:$(({line} + LINENO - 1)) failed (exit $rc): $BASH_COMMAND\" >&2' ERR"
)
# After it: every variable it set (not bash's own or the inherited environment's), for the next.
EPILOGUE = """
trap - ERR
for _v in $(compgen -v); do
  case " {base} " in *" $_v "*) continue ;; esac
  declare -p "$_v" 2>/dev/null || true
done > {state}.next
mv {state}.next {state}
"""


@dataclass
class Outcome:
    block: Block
    code: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        return f"{self.block.where} exited {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


class MakeRun:
    """``make run`` on a fresh data directory under ``root``; ``url`` once it is healthy."""

    def __init__(self, root: Path, repository: Path) -> None:
        self.root = root
        self.workdir = root / "work"
        self.workdir.mkdir()
        (self.workdir / "registry-data").symlink_to(repository / "registry-data")
        home = root / "home"
        home.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MCPREG_", "XDG_"))}
        self.env.update(
            {
                "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "COLUMNS": "200",
                "NO_COLOR": "1",
            }
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> Path:
        return self.workdir / ".mcpreg" / "mcpreg.db"

    def __enter__(self) -> MakeRun:
        serve_env = {**self.env, "MCPREG_DEV": "1"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "mcpreg"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.workdir,
                env=serve_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_healthy(self.url, self.process, self.log)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


class Terminal:
    """One reader's shell session in the working directory of a ``MakeRun``."""

    def __init__(self, served: MakeRun) -> None:
        self.served = served
        self.state = served.root / "shell-state.sh"
        self.state.write_text("")
        inherited = subprocess.run(
            ["bash", "-c", "compgen -v"], env=served.env, capture_output=True, text=True, check=True
        )
        self.base = " ".join(sorted(set(inherited.stdout.split()) | {"rc", "_v"}))

    def _code(self, block: Block) -> str:
        return block.runnable().replace(MAKE_RUN_URL, self.served.url)

    def run(self, block: Block) -> Outcome:
        if block.language == "sh":
            script = (
                PRELUDE.format(state=self.state, line=block.line)
                + "\n"
                + self._code(block)
                + EPILOGUE.format(base=self.base, state=self.state)
            )
            command = ["bash", "-c", script]
        elif block.language == "python":
            command = [sys.executable, "-c", self._code(block)]
        else:
            raise ValueError(f"{block.where}: no way to run {block.language!r}")
        done = subprocess.run(
            command,
            cwd=self.served.workdir,
            env=self.served.env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT,
            check=False,
        )
        return Outcome(block, done.returncode, done.stdout, done.stderr)

    def which(self, command: str) -> str:
        """What the reader's shell runs for ``command``."""
        done = subprocess.run(
            ["bash", "-c", f"command -v {command}"], env=self.served.env, capture_output=True, text=True
        )
        return done.stdout.strip()

    def variable(self, name: str) -> str:
        """A variable as the blocks left it (empty when unset)."""
        done = subprocess.run(
            ["bash", "-c", f'. {self.state}; printf %s "${{{name}:-}}"'],
            env=self.served.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout
