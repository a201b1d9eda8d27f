"""``mcpreg tokens create --expires-in``: the local command, on each backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.console import Console
from typer.testing import CliRunner

from mcpreg.cli import tokens as tokens_cli
from tests.services.test_tokens import expire


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"MCPREG_DATABASE_URL": database_url, "MCPREG_DATA_DIR": str(tmp_path / "cli"), "COLUMNS": "200"}


def test_tokens_create_with_expires_in_stores_and_prints_the_expiry(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    before = datetime.now(UTC)
    args = ["create", "--name", "ci", "--scope", "publish", "--expires-in", "30d", "--json"]
    result = CliRunner().invoke(tokens_cli.app, args, env=_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    expires_at = datetime.fromisoformat(created["expiresAt"].replace("Z", "+00:00"))
    assert before + timedelta(days=30) <= expires_at <= datetime.now(UTC) + timedelta(days=30)
    listed = CliRunner().invoke(tokens_cli.app, ["list", "--json"], env=_env(database_url, tmp_path))
    assert json.loads(listed.stdout)[0]["expiresAt"] == created["expiresAt"]


def test_tokens_create_without_expires_in_never_expires(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    args = ["create", "--name", "ci", "--scope", "publish", "--json"]
    result = CliRunner().invoke(tokens_cli.app, args, env=_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["expiresAt"] is None


def test_an_unusable_expires_in_is_refused_in_cli_words_and_creates_nothing(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    args = ["create", "--name", "ci", "--scope", "publish", "--expires-in", "forever"]
    result = CliRunner().invoke(tokens_cli.app, args, env=_env(database_url, tmp_path))
    assert result.exit_code == 1
    assert "validation_failed" in result.output
    assert "--expires-in" in result.output
    assert "Traceback" not in result.output
    listed = CliRunner().invoke(tokens_cli.app, ["list", "--json"], env=_env(database_url, tmp_path))
    assert json.loads(listed.stdout) == []


def test_tokens_list_shows_each_tokens_expiry_and_status(
    engine: sa.Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command's console took its width when the module was first imported in this
    # process (a real `mcpreg` process imports it afresh): give it a wide one here.
    monkeypatch.setattr(tokens_cli, "out", Console(width=200))
    env = _env(database_url, tmp_path)
    runner = CliRunner()
    assert (
        runner.invoke(
            tokens_cli.app, ["create", "--name", "ci", "--scope", "read", "--expires-in", "30d"], env=env
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(tokens_cli.app, ["create", "--name", "root", "--scope", "admin"], env=env).exit_code
        == 0
    )
    assert (
        runner.invoke(tokens_cli.app, ["create", "--name", "old", "--scope", "read"], env=env).exit_code == 0
    )
    assert runner.invoke(tokens_cli.app, ["revoke", "old"], env=env).exit_code == 0
    assert (
        runner.invoke(
            tokens_cli.app, ["create", "--name", "brief", "--scope", "read", "--expires-in", "1h"], env=env
        ).exit_code
        == 0
    )
    expire(engine, "brief")
    listed = runner.invoke(tokens_cli.app, ["list"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if line.startswith("│")}
    in_30_days = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert in_30_days in rows["ci"] and "active" in rows["ci"]
    assert "never" in rows["root"] and "active" in rows["root"]
    assert "revoked" in rows["old"]
    assert "expired" in rows["brief"]
