"""Secret safety end to end: tampering is a clear error, rotation runs under live traffic with no
failed read, and no plaintext reaches the database files, the logs, the journal or public reads."""

from __future__ import annotations

import base64
import logging
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from mcpreg.api.app import create_app
from mcpreg.crypto import KeyRing, SecretValue, generate_entry
from mcpreg.db.config_tables import Secret
from mcpreg.db.engine import unit_of_work
from mcpreg.errors import SecretDecryptFailed
from mcpreg.services.rotation import rotate
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS, make_token
from tests.support.documents import API_KEY, OPTIONAL_REMOTE_KEY, weather_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem

NAME = "io.github.acme/weather"
SERVER = f"/api/servers/{NAME}"
SCOPES: tuple[dict[str, str], ...] = ({}, {"version": "1.0.0"}, {"environment": "production"})


@pytest.fixture
def weather(app_api: httpx.Client) -> httpx.Client:
    doc = weather_doc(variables=(API_KEY,), headers=(OPTIONAL_REMOTE_KEY,))
    assert app_api.post("/v0.1/publish", json=doc).status_code == 200
    return app_api


def put_secret(client: httpx.Client, name: str, value: str, where: dict[str, str]) -> None:
    response = client.put(f"{SERVER}/secrets/{name}", params=where, json={"value": value})
    assert response.status_code in (200, 201), response.text


def reveal(client: httpx.Client, environment: str = "production", **params: str) -> httpx.Response:
    return client.get(
        f"/api/environments/{environment}/servers/{NAME}/config",
        params={"version": "1.0.0", "reason": "test", **params},
    )


def settings_with(settings: Settings, keys: str) -> Settings:
    return Settings.from_env({**settings.environ, "MCPREG_SECRET_KEYS": keys})


@pytest.fixture
def serve(engine: sa.Engine, settings: Settings) -> Iterator[Any]:
    """Start more apps (in process) on the same database with other key rings."""
    with ExitStack() as started:

        def start(keys: str) -> InProcess:
            return started.enter_context(InProcess(create_app(settings_with(settings, keys), engine)))

        yield start


# -- tampering -----------------------------------------------------------------------------


def test_ciphertexts_swapped_between_two_rows_fail_with_a_problem_not_garbage(
    weather: httpx.Client, engine: sa.Engine
) -> None:
    put_secret(weather, "API_KEY", "alpha-secret-one", {})
    put_secret(weather, "X-Api-Key", "beta-secret-two", {})
    with unit_of_work(engine, write=True) as session:
        rows = {r.name: r for r in session.exec(select(Secret))}
        a, b = rows["API_KEY"], rows["X-Api-Key"]
        session.execute(sa.update(Secret).where(Secret.id == a.id).values(ciphertext=b.ciphertext))  # type: ignore[arg-type]
        session.execute(sa.update(Secret).where(Secret.id == b.id).values(ciphertext=a.ciphertext))  # type: ignore[arg-type]
    body = assert_problem(reveal(weather), 500, "secret_decrypt_failed")
    assert body["field"] in ("API_KEY", "X-Api-Key")
    assert "alpha-secret-one" not in str(body) and "beta-secret-two" not in str(body)


def test_a_ciphertext_copied_to_another_scope_fails(weather: httpx.Client, engine: sa.Engine) -> None:
    put_secret(weather, "API_KEY", "server-level", {})
    put_secret(weather, "API_KEY", "prod-level", {"environment": "production"})
    with unit_of_work(engine, write=True) as session:
        rows = {r.scope: r for r in session.exec(select(Secret))}
        session.execute(
            sa.update(Secret)
            .where(Secret.id == rows["environment"].id)  # type: ignore[arg-type]
            .values(ciphertext=rows["server"].ciphertext)
        )
    assert_problem(reveal(weather), 500, "secret_decrypt_failed")


@pytest.mark.parametrize("part", [3, 4])
def test_a_ciphertext_with_one_byte_changed_fails(
    weather: httpx.Client, engine: sa.Engine, part: int
) -> None:
    put_secret(weather, "API_KEY", "edit-me-secret", {})
    with unit_of_work(engine, write=True) as session:
        row = session.exec(select(Secret)).one()
        pieces = row.ciphertext.split(":")
        raw = bytearray(base64.urlsafe_b64decode(pieces[part] + "=" * (-len(pieces[part]) % 4)))
        raw[len(raw) // 2] ^= 0x01
        pieces[part] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        row.ciphertext = ":".join(pieces)
        session.add(row)
    assert_problem(reveal(weather), 500, "secret_decrypt_failed")


def test_a_secret_whose_key_left_the_ring_fails_with_unknown_key(
    weather: httpx.Client, serve: Any, engine: sa.Engine
) -> None:
    put_secret(weather, "API_KEY", "sealed-under-test1", {})
    other = serve(generate_entry("other"))
    with other.client(headers=weather.headers) as client:
        assert_problem(reveal(client), 500, "unknown_key")


# -- rotation under live traffic ---------------------------------------------------------------


def test_a_full_rotation_during_concurrent_reads_fails_no_read(
    weather: httpx.Client, serve: Any, engine: sa.Engine
) -> None:
    for i in range(10):
        for where in SCOPES:
            put_secret(weather, f"S{i}", f"value-{i}-{where}", where)
    expected = {env: reveal(weather, env).json()["secrets"] for env in ("production", "staging")}
    new_entry = generate_entry("k2")
    rotating = serve(f"{new_entry},{TEST_KEYS}")
    ring = KeyRing.parse(f"{new_entry},{TEST_KEYS}")

    reads = 0
    failures: list[str] = []
    changed = threading.Condition()
    stop = threading.Event()

    def reader(environment: str) -> None:
        nonlocal reads
        with rotating.client(headers=weather.headers) as client:
            while not stop.is_set():
                response = reveal(client, environment)
                got = response.json().get("secrets") if response.status_code == 200 else None
                values = {k: v["value"] for k, v in (got or {}).items()}
                if values != {k: v["value"] for k, v in expected[environment].items()}:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                with changed:
                    reads += 1
                    changed.notify_all()

    threads = [
        threading.Thread(target=reader, args=(env,)) for env in ("production", "staging", "production")
    ]
    for thread in threads:
        thread.start()

    def reads_happen(done: int, total: int) -> None:
        if done in (1, total // 2):  # hold the rotation until readers got through mid-way
            with changed:
                target = reads + 3
                assert changed.wait_for(lambda: reads >= target, timeout=30)

    try:
        report = rotate(engine, ring, batch_size=7, progress=reads_happen)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert reads >= 6
    assert (report.total, report.rewrapped, report.remaining) == (30, 30, 0)

    new_only = serve(new_entry)
    with new_only.client(headers=weather.headers) as client:
        for env in ("production", "staging"):
            response = reveal(client, env)
            assert response.status_code == 200, response.text
            assert response.json()["secrets"] == {k: {**v, "keyId": "k2"} for k, v in expected[env].items()}


# -- no plaintext anywhere it should not be ---------------------------------------------------


def _encodings(value: str) -> list[bytes]:
    raw = value.encode()
    forms = [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw)]
    return forms + [f.rstrip(b"=") for f in forms[2:]]


def _database_bytes(database_url: str, engine: sa.Engine) -> bytes:
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    pg_dump = shutil.which("pg_dump")
    assert pg_dump is not None, "pg_dump is needed for the PostgreSQL scan"
    database = database_url.rsplit("/", 1)[1]
    dump = subprocess.run(
        [pg_dump, "-h", "127.0.0.1", "-U", "postgres", database],
        capture_output=True,
        check=True,
        timeout=120,
    )
    assert b"COPY public.secret" in dump.stdout
    return dump.stdout


def test_no_plaintext_reaches_the_database_logs_journal_or_public_reads(
    weather: httpx.Client,
    app_anon: httpx.Client,
    engine: sa.Engine,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, SQLAlchemy's statements and parameters included
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    known = {f"S{i}": "plain-" + secrets.token_urlsafe(24) for i in range(6)}
    for i, (name, value) in enumerate(known.items()):
        put_secret(weather, name, value, SCOPES[i % 3])
    put_secret(weather, "S0", known["S0"], SCOPES[0])  # a second revision
    control = "plain-variable-" + secrets.token_urlsafe(12)  # proves the scans can see values
    assert weather.put(f"{SERVER}/variables/CONTROL", json={"value": control}).status_code == 201
    revealed = reveal(weather).json()["secrets"]
    assert {revealed[n]["value"] for n in ("S0", "S1", "S2")} <= set(known.values())
    # Errors about a secret never carry its value.
    refused = weather.put(f"{SERVER}/secrets/bad name", json={"value": known["S1"]})
    too_long = weather.put(f"{SERVER}/secrets/S9", json={"value": known["S1"] * 3000})
    assert refused.status_code == 422 and too_long.status_code == 422
    rotate(engine, KeyRing.parse(f"{generate_entry('k2')},{TEST_KEYS}"))

    public = [
        app_anon.get("/v0.1/servers").text,
        app_anon.get(f"/v0.1/servers/{NAME.replace('/', '%2F')}/versions").text,
        app_anon.get(f"/v0.1/servers/{NAME.replace('/', '%2F')}/versions/latest").text,
        weather.get(f"{SERVER}/secrets").text,
        weather.get("/api/audit", params={"limit": 500}).text,
        refused.text,
        too_long.text,
    ]
    logs = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert "INSERT INTO secret" in logs and "UPDATE secret" in logs  # the capture saw the traffic
    stored = _database_bytes(database_url, engine)
    assert control.encode() in stored and control in logs
    for value in known.values():
        for form in _encodings(value):
            assert form not in stored
        for text in [*public, logs]:
            assert value not in text


def test_secret_values_never_show_in_reprs_or_errors() -> None:
    value = SecretValue("repr-me-not-123")
    assert "repr-me-not-123" not in repr(value) and "repr-me-not-123" not in str(value)
    assert "repr-me-not-123" not in repr({"v": value})
    error = SecretDecryptFailed("the stored secret failed authentication")
    assert "repr-me-not-123" not in repr(error)


def test_a_token_without_secrets_read_never_receives_a_value(
    weather: httpx.Client, app_server: InProcess, engine: sa.Engine
) -> None:
    put_secret(weather, "API_KEY", "masked-for-publishers", {})
    token = make_token(engine, "publisher", ["publish", "deploy"])
    with app_server.client(token) as client:
        response = reveal(client)
    assert response.status_code == 200
    assert "masked-for-publishers" not in response.text
