"""What the CLI prints for people: tables that fit the terminal, dates, refusals in CLI words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mcpreg.client import NotFound, Registry
from tests.conftest import server_doc
from tests.support.served import Served

LONG_SECRET = "A_VERY_LONG_SECRET_NAME_FOR_THE_UPSTREAM_WEATHER_PROVIDER_API_KEY"
LONG_NOTES = "rolled out after the forecast cache fix; watch the error rate of the upstream provider closely"
LONG_IDENTIFIER = "ghcr.io/acme-corporation/weather-forecasting-mcp-server-with-a-long-name"


@pytest.fixture
def admin(served: Served) -> Iterator[Registry]:
    with Registry(served.url, token=served.admin_token, cache_ttl=0) as registry:
        yield registry


@pytest.fixture
def wide(served: Served, admin: Registry) -> str:
    """A server whose release, history and secrets hold text longer than 80 columns."""
    name = "io.github.acme/wide-tables"
    try:
        admin.versions(name)
    except NotFound:
        doc = server_doc(name, "1.0.0")
        doc["packages"].append(
            {
                "registryType": "oci",
                "identifier": LONG_IDENTIFIER + ":1.0.0",
                "transport": {"type": "stdio"},
                "environmentVariables": [{"name": LONG_SECRET, "isRequired": True, "isSecret": True}],
            }
        )
        admin.publish(doc)
        admin.deploy(name, "1.0.0", "staging", notes=LONG_NOTES)
        admin.set_secret(name, LONG_SECRET, "s3cr3t", environment="staging")
    return name


def widths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()]


@pytest.mark.parametrize(
    "args",
    [
        ("show", "{name}"),
        ("history", "{name}", "--env", "staging"),
        ("secrets", "list", "{name}"),
    ],
)
def test_tables_fit_80_columns_and_use_a_wider_terminal(
    served: Served, wide: str, args: tuple[str, ...]
) -> None:
    argv = [a.format(name=wide) for a in args]
    narrow = served.run(*argv, env={"COLUMNS": "80"})
    assert narrow.code == 0, narrow.stderr
    assert max(widths(narrow.stdout)) <= 80, narrow.stdout
    assert "…" not in narrow.stdout, "nothing is cut off behind an ellipsis"
    broad = served.run(*argv, env={"COLUMNS": "160"})
    assert broad.code == 0, broad.stderr
    assert 80 < max(widths(broad.stdout)) <= 160, broad.stdout
    assert len(broad.stdout.splitlines()) < len(narrow.stdout.splitlines())


def test_every_long_value_is_printed_whole_at_80_columns(served: Served, wide: str) -> None:
    for args, text in (
        (("show", wide), LONG_IDENTIFIER),
        (("history", wide, "--env", "staging"), LONG_NOTES),
        (("secrets", "list", wide), LONG_SECRET),
    ):
        out = served.run(*args, env={"COLUMNS": "80"}).stdout
        joined = "".join(out.replace("│", " ").replace("┃", " ").split())
        assert "".join(text.split()) in joined, out


def test_the_tokens_table_fits_80_columns(served: Served) -> None:
    served.token("a-token-with-a-rather-long-name-for-ci", ["publish"], namespaces=["io.github.acme-corp/*"])
    env = {"MCPREG_DATABASE_URL": served.database_url, "COLUMNS": "80"}
    listed = served.run("tokens", "list", env=env)
    assert listed.code == 0, listed.stderr
    assert max(widths(listed.stdout)) <= 80, listed.stdout
    assert "…" not in listed.stdout
    assert datetime.now(UTC).strftime("%Y-%m-%d") in listed.stdout


def test_times_in_tables_show_the_date(served: Served, wide: str) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for args in (("versions", wide), ("history", wide, "--env", "staging"), ("where", wide)):
        shown = served.run(*args)
        assert today in shown.stdout, shown.stdout


# -- refusals in CLI words -------------------------------------------------------------------------


def test_refusals_name_the_option_or_argument_the_user_typed(
    served: Served, admin: Registry, wide: str
) -> None:
    admin.deploy(wide, "1.0.0", "dev")
    skipped = served.run("promote", wide, "--from", "dev", "--to", "production")
    assert skipped.code == 1
    assert "promotion_skips_environment" in skipped.stderr
    assert "option: --force" in skipped.stderr and "add --force" in skipped.stderr
    assert "field: force" not in skipped.stderr and "force: true" not in skipped.stderr
    nowhere = served.run("promote", wide, "--from", "dev", "--to", "nowhere")
    assert "option: --to" in nowhere.stderr
    rollback = served.run("rollback", wide, "--env", "staging", "--to", "9.9.9")
    assert rollback.code == 1 and "option: --to" in rollback.stderr
    config = served.run("config", wide, "--env", "staging", "--version", "9.9.9")
    assert config.code == 1 and "option: --version" in config.stderr
    deploy = served.run("deploy", f"{wide}@9.9.9", "--env", "staging")
    assert deploy.code == 1 and "argument: NAME@VERSION" in deploy.stderr
    duplicate = served.run("duplicate", f"{wide}@1.0.0", "v2")
    assert duplicate.code == 1 and "argument: NEW_VERSION" in duplicate.stderr
    both = served.run("vars", "set", wide, "LOG_LEVEL", "info", "--version", "1.0.0", "--env", "staging")
    assert both.code == 1 and "give --version (a release) or --env" in both.stderr


def test_revealing_without_the_secrets_read_scope_exits_1_naming_the_scope(served: Served, wide: str) -> None:
    deployer = served.token("deployer-no-secrets", ["publish", "deploy"])
    refused = served.run(
        "config", wide, "--env", "staging", "--reveal", "--reason", "debugging", token=deployer
    )
    assert refused.code == 1, refused.stdout
    assert "secrets:read" in refused.stderr and "s3cr3t" not in refused.stdout
