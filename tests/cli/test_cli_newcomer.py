"""What a new user hits first, without a registry: --version, odd files, names, the database.

Every command runs as a real ``mcpreg`` subprocess in a directory of its own, with no
``MCPREG_*`` variable unless the test sets one.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from mcpreg import __version__
from tests.conftest import server_doc
from tests.support.served import MCPREG, running_serve, serve_env


def mcpreg(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: str = ""
) -> subprocess.CompletedProcess[str]:
    chosen = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    chosen.update(env or {})
    return subprocess.run(
        [MCPREG, *args], cwd=cwd, env=chosen, input=input, capture_output=True, text=True, timeout=60
    )


def write_doc(path: Path, prefix: bytes = b"", encoding: str = "utf-8", **extra: str) -> Path:
    doc = server_doc(**extra)
    doc["description"] = "Prévisions météo"
    path.write_bytes(prefix + json.dumps(doc, indent=2, ensure_ascii=False).encode(encoding))
    return path


# -- --version ---------------------------------------------------------------------------------------


def test_mcpreg_version_prints_the_installed_version(tmp_path: Path) -> None:
    done = mcpreg("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"mcpreg {__version__}"


# -- server names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("versions", "weather"),
        ("history", "weather", "--env", "staging"),
        ("vars", "list", "weather"),
        ("channel", "list", "weather"),
        ("rollout", "status", "weather", "--env", "staging"),
        ("diff", "weather", "1.0.0", "2.0.0"),
    ],
)
def test_a_server_name_without_a_slash_is_a_usage_error_not_a_traceback(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    done = mcpreg(*args, "--url", "http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "io.github.owner/server" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_registry_url_that_is_not_a_url_is_a_usage_error(tmp_path: Path) -> None:
    done = mcpreg("versions", "io.github.acme/weather", "--url", "http://[::1", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "--url" in done.stderr and "Traceback" not in done.stderr


# -- files: byte-order marks and encodings -----------------------------------------------------------


def test_a_server_json_with_a_utf8_byte_order_mark_is_read(tmp_path: Path) -> None:
    write_doc(tmp_path / "server.json", prefix=b"\xef\xbb\xbf")
    done = mcpreg("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "io.github.acme/weather 1.0.0" in done.stdout


@pytest.mark.parametrize("command", ["validate", "publish"])
def test_a_server_json_that_is_not_utf8_is_refused_naming_the_byte(tmp_path: Path, command: str) -> None:
    write_doc(tmp_path / "server.json", encoding="latin-1")
    done = mcpreg(command, "server.json", cwd=tmp_path, env={"MCPREG_URL": "http://127.0.0.1:9"})
    assert done.returncode == 1, done.stderr
    assert "server.json" in done.stderr and "not UTF-8" in done.stderr and "0xe9" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_utf16_server_json_is_refused_with_how_to_fix_it(tmp_path: Path) -> None:
    write_doc(tmp_path / "server.json", encoding="utf-16")
    done = mcpreg("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert "UTF-16" in done.stderr and "save it as UTF-8" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreadable_server_json_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = write_doc(tmp_path / "server.json")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything
        pytest.skip("this user can read a file of mode 000")
    done = mcpreg("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot read" in done.stderr and "Traceback" not in done.stderr


def test_import_reads_a_byte_order_mark_and_refuses_latin1(database_url: str, tmp_path: Path) -> None:
    env = {"MCPREG_DATABASE_URL": database_url, "MCPREG_DATA_DIR": str(tmp_path / "data")}
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps([server_doc(version="1.0.0")]).encode())
    landed = mcpreg("import", str(bom), "--json", cwd=tmp_path, env=env)
    assert landed.returncode == 0, landed.stderr
    assert json.loads(landed.stdout)["landed"] == 1
    latin = tmp_path / "latin.json"
    latin.write_bytes(json.dumps([{"description": "é"}], ensure_ascii=False).encode("latin-1"))
    refused = mcpreg("import", str(latin), cwd=tmp_path, env=env)
    assert refused.returncode == 1
    assert "not UTF-8" in refused.stderr and "Traceback" not in refused.stderr


def test_piped_stdin_that_is_not_utf8_or_a_token_that_is_not_ascii_is_refused(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    for args, env in (
        (("secrets", "set", "io.github.acme/weather", "API_KEY"), {"MCPREG_TOKEN": "t"}),
        (("login", "--url", url), {"MCPREG_CONFIG": str(tmp_path / "config.json")}),
    ):
        done = subprocess.run(
            [MCPREG, *args],
            cwd=tmp_path,
            env={**serve_env(), "MCPREG_URL": url, **env},
            input=b"sk-\xe9\xff\n",
            capture_output=True,
            timeout=60,
        )
        stderr = done.stderr.decode()
        assert done.returncode == 1, stderr
        assert "stdin is not UTF-8" in stderr and "Traceback" not in stderr
    accented = mcpreg("whoami", cwd=tmp_path, env={"MCPREG_URL": url, "MCPREG_TOKEN": "tok\u00e9"})
    assert accented.returncode == 1
    assert "not ASCII" in accented.stderr and "Traceback" not in accented.stderr


# -- import's exit code ------------------------------------------------------------------------------


def test_import_exits_1_when_nothing_lands_and_0_for_an_empty_catalogue(
    database_url: str, tmp_path: Path
) -> None:
    env = {"MCPREG_DATABASE_URL": database_url, "MCPREG_DATA_DIR": str(tmp_path / "data")}
    good = tmp_path / "good.json"
    good.write_text(json.dumps([server_doc(version="1.0.0")]))
    assert mcpreg("import", str(good), cwd=tmp_path, env=env).returncode == 0
    again = mcpreg("import", str(good), cwd=tmp_path, env=env)
    assert again.returncode == 1, again.stdout
    assert "nothing landed" in again.stderr
    as_json = mcpreg("import", str(good), "--json", cwd=tmp_path, env=env)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["landed"] == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([server_doc(version="v2")]))
    assert mcpreg("import", str(bad), cwd=tmp_path, env=env).returncode == 1
    for shape in ("5", '{"servers": 5}'):
        (tmp_path / "shape.json").write_text(shape)
        odd = mcpreg("import", str(tmp_path / "shape.json"), cwd=tmp_path, env=env)
        assert odd.returncode == 1 and "Traceback" not in odd.stderr, odd.stderr
        assert "validation_failed" in odd.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    nothing = mcpreg("import", str(empty), cwd=tmp_path, env=env)
    assert nothing.returncode == 0, nothing.stderr
    assert "nothing to import" in nothing.stdout


# -- the default database ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("tokens", "create", "--name", "root", "--scope", "admin"),
        ("tokens", "list"),
        ("tokens", "revoke", "root"),
        ("export",),
        ("import", "servers.json"),
    ],
)
def test_a_local_command_refuses_to_create_a_second_database_in_another_directory(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "servers.json").write_text("[]")
    done = mcpreg(*args, cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    expected = tmp_path.resolve() / ".mcpreg" / "mcpreg.db"
    assert str(expected) in done.stderr
    assert "MCPREG_DATA_DIR" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".mcpreg").exists()


def test_a_token_created_where_serve_runs_on_defaults_works_against_it(tmp_path: Path) -> None:
    env = serve_env(MCPREG_DEV="1", MCPREG_SAMPLE_DATA="0")
    with running_serve(env, tmp_path / "serve.log", cwd=tmp_path) as spawned:
        url = spawned.url
        created = mcpreg("tokens", "create", "--name", "root", "--scope", "admin", cwd=tmp_path, env=env)
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        who = httpx.get(f"{url}/api/whoami", headers={"Authorization": f"Bearer {token}"})
        assert who.status_code == 200 and who.json()["name"] == "root"
