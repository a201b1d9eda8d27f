"""Large cached answers (list pages) are stored gzipped and sent gzipped to who accepts it."""

from __future__ import annotations

import gzip

import httpx
import orjson
import pytest
import sqlalchemy as sa

from mcpreg.api.fastpath.cache import ResponseCache
from mcpreg.api.fastpath.encoding import GZIP_MIN, accepts_gzip
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import releases
from tests.conftest import server_doc

PAGE = "/v0.1/servers?limit=100"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def catalogue(engine: sa.Engine) -> None:
    """Enough servers that one list page is well over ``GZIP_MIN``."""
    with unit_of_work(engine, write=True) as session:
        for i in range(40):
            releases.create_release(session, SYSTEM, server_doc(name=f"io.github.acme/s{i:02d}"))


def raw_get(client: httpx.Client, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (httpx would decode gzip on its own)."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_a_list_page_is_the_same_json_with_and_without_gzip(catalogue: None, anon: httpx.Client) -> None:
    for _ in range(2):  # the miss (the handler) and the hit (the front door) answer alike
        plain, plain_body = raw_get(anon, PAGE, IDENTITY)
        zipped, zipped_body = raw_get(anon, PAGE, GZIP)
        assert plain.status_code == zipped.status_code == 200
        assert len(plain_body) >= GZIP_MIN
        assert "content-encoding" not in plain.headers
        assert zipped.headers["content-encoding"] == "gzip"
        assert len(zipped_body) < len(plain_body) // 3
        assert int(zipped.headers["content-length"]) == len(zipped_body)
        assert gzip.decompress(zipped_body) == plain_body
        assert orjson.loads(plain_body)["metadata"]["count"] == 40
        for response in (plain, zipped):
            assert "Accept-Encoding" in response.headers["vary"]
            assert "X-Client-Id" in response.headers["vary"]
        assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'


def test_each_etag_revalidates_only_its_own_representation(catalogue: None, anon: httpx.Client) -> None:
    plain, _ = raw_get(anon, PAGE, IDENTITY)
    zipped, _ = raw_get(anon, PAGE, GZIP)
    for etag, headers, same in [
        (plain.headers["etag"], IDENTITY, True),
        (plain.headers["etag"], GZIP, False),
        (zipped.headers["etag"], GZIP, True),
        (zipped.headers["etag"], IDENTITY, False),
    ]:
        response, body = raw_get(anon, PAGE, {**headers, "If-None-Match": etag})
        assert response.status_code == (304 if same else 200)
        assert (body == b"") is same


def test_gzip_with_q_zero_gets_the_json(catalogue: None, anon: httpx.Client) -> None:
    plain, plain_body = raw_get(anon, PAGE, IDENTITY)
    refused, refused_body = raw_get(anon, PAGE, {"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    assert refused_body == plain_body
    assert refused.headers["etag"] == plain.headers["etag"]


def test_a_small_answer_is_never_gzipped(catalogue: None, anon: httpx.Client) -> None:
    response, body = raw_get(anon, "/v0.1/servers/io.github.acme%2Fs00/versions/latest", GZIP)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert orjson.loads(body)["server"]["name"] == "io.github.acme/s00"


def test_a_gzipped_entry_counts_its_compressed_size() -> None:
    cache = ResponseCache()
    body = orjson.dumps({"servers": [{"name": f"s{i}", "description": "x" * 50} for i in range(400)]})
    entry = cache.entry(body)
    assert entry.gzipped and entry.json == body
    assert cache.put("k", entry, cache.mark())
    assert cache.bytes == entry.size + 1 < len(body) // 3


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("deflate, GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("gzip;q=x", False),
        ("identity", False),
        ("*", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_encoding_is_read_minimally(value: str | None, accepted: bool) -> None:
    assert accepts_gzip(value) is accepted
