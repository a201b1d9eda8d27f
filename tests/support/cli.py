"""``mcpreg`` in process (Typer's ``CliRunner``) against a live server, as one token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner, Result

from mcpreg.cli import remote
from mcpreg.cli.main import app
from mcpreg.client import Registry


@contextmanager
def console_width(columns: int) -> Iterator[None]:
    """The CLI's consoles at ``columns`` for one invocation. They take their width when first
    imported, from whatever terminal or ``COLUMNS`` that process had; under xdist another
    test may have imported them narrow, so ``COLUMNS`` in the invocation's environment alone
    does not decide how wide its tables are."""
    consoles: tuple[Console, ...] = (remote.out, remote.err)
    before = [console._width for console in consoles]
    for console in consoles:
        console.width = columns
    try:
        yield
    finally:
        for console, width in zip(consoles, before, strict=True):
            console._width = width


@dataclass
class InProcessCli:
    url: str
    token: str
    home: Path  # where the CLI's config file goes
    columns: int = 200

    def __call__(self, *args: str) -> Result:
        env = {
            "MCPREG_URL": self.url,
            "MCPREG_TOKEN": self.token,
            "MCPREG_CONFIG": str(self.home / "config.json"),
            "COLUMNS": str(self.columns),
        }
        with console_width(self.columns):
            return CliRunner().invoke(app, list(args), env=env)

    def registry(self) -> Registry:
        return Registry(self.url, token=self.token, cache_ttl=0)
