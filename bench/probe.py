"""Before measuring: walk the real service once to collect URLs, ETags and typical response bodies."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

LIST_PATH = "/v0.1/servers?limit=100"
# What the list scenario sends, as real clients do (httpx and Go's net/http ask for gzip).
LIST_HEADERS = (("Accept-Encoding", "gzip"),)
# The response headers the baselines replay with the body (uvicorn adds date and the rest).
REPLAYED = ("content-type", "content-encoding", "etag", "cache-control", "vary")
MAX_PATHS = 20_000


@dataclass(frozen=True)
class Sample:
    """A typical response (the one closest to the median size) for the baseline to replay."""

    status: int
    body: bytes
    etag: str | None
    median_bytes: int
    headers: tuple[tuple[str, str], ...] = ()  # what the baselines send with it (``REPLAYED``)


@dataclass
class Probe:
    """Everything the load scenarios need, collected with plain sequential requests."""

    list_paths: list[str] = field(default_factory=list)
    listed_items: int = 0
    detail_paths: list[str] = field(default_factory=list)
    etag_paths: list[str] = field(default_factory=list)
    detail_etags: list[str] = field(default_factory=list)
    resolve_paths: list[str] = field(default_factory=list)
    samples: dict[str, Sample] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def server_path(name: str) -> str:
    return f"/v0.1/servers/{quote(name, safe='')}/versions/latest"


def _typical(responses: list[httpx.Response]) -> Sample | None:
    if not responses:
        return None
    median = int(statistics.median(len(r.content) for r in responses))
    best = min(responses, key=lambda r: abs(len(r.content) - median))
    headers = tuple((k, best.headers[k]) for k in REPLAYED if k in best.headers)
    return Sample(best.status_code, best.content, best.headers.get("etag"), median, headers)


def walk_list(client: httpx.Client, probe: Probe, time_limit: float) -> None:
    """Follow ``nextCursor`` from the first page, bounded by page count and time."""
    deadline = time.monotonic() + time_limit
    path: str | None = LIST_PATH
    pages: list[httpx.Response] = []
    while path is not None and len(pages) < MAX_PATHS and time.monotonic() < deadline:
        response = client.get(path)
        if response.status_code != 200:
            probe.notes.append(
                f"list page {len(pages) + 1} answered {response.status_code}: {response.text[:200]}"
            )
            break
        pages.append(response)
        probe.list_paths.append(path)
        body: dict[str, Any] = response.json()
        probe.listed_items += len(body.get("servers", []))
        cursor = (body.get("metadata") or {}).get("nextCursor")
        path = f"{LIST_PATH}&cursor={quote(str(cursor), safe='')}" if cursor else None
    if path is not None and pages:
        probe.notes.append(f"cursor walk stopped after {len(pages)} pages (time or page bound)")
    sample = _typical(pages)
    if sample is not None:
        probe.samples["list"] = _as_sent(client, pages, sample, dict(LIST_HEADERS))


def _as_sent(
    client: httpx.Client, pages: list[httpx.Response], sample: Sample, headers: dict[str, str]
) -> Sample:
    """``sample`` again, with the bytes and headers the service sends for ``headers`` (httpx
    decodes gzip on its own: the baselines must replay the compressed bytes, not the JSON)."""
    url = next(r.request.url for r in pages if r.content == sample.body)
    with client.stream("GET", url, headers=headers) as response:
        body = b"".join(response.iter_raw())
        replayed = tuple((k, response.headers[k]) for k in REPLAYED if k in response.headers)
        return Sample(response.status_code, body, response.headers.get("etag"), sample.median_bytes, replayed)


def sample_details(client: httpx.Client, probe: Probe, names: list[str], with_etags: int) -> None:
    """Detail paths for every name; fetch ``with_etags`` of them for their ETags and sizes."""
    probe.detail_paths = [server_path(n) for n in names[:MAX_PATHS]]
    responses: list[httpx.Response] = []
    for path in random.Random(3).sample(probe.detail_paths, min(with_etags, len(probe.detail_paths))):
        response = client.get(path)
        if response.status_code != 200:
            probe.notes.append(f"GET {path} answered {response.status_code}: {response.text[:200]}")
            break
        responses.append(response)
        if response.headers.get("etag"):
            probe.etag_paths.append(path)
            probe.detail_etags.append(response.headers["etag"])
    sample = _typical(responses)
    if sample is not None:
        probe.samples["detail"] = sample
    if not probe.detail_etags:
        probe.notes.append("version detail sends no ETag: revalidation (304) scenario skipped")
        return
    check = client.get(probe.etag_paths[0], headers={"If-None-Match": probe.detail_etags[0]})
    if check.status_code != 304:
        probe.notes.append(f"If-None-Match with the ETag answered {check.status_code}, not 304")


def sample_resolve(client: httpx.Client, probe: Probe, env: str, names: list[str], token: str | None) -> None:
    """Resolve paths (ending in ``client=``) for the canary servers, and a typical answer.

    Resolve needs a token with read access; the admin token is sent (same authentication cost).
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    probe.resolve_paths = [
        f"/api/environments/{env}/servers/{quote(n, safe='')}/resolve?client=" for n in names
    ]
    rng = random.Random(5)
    responses: list[httpx.Response] = []
    for path in probe.resolve_paths[:40]:
        response = client.get(path + str(rng.randint(1, 1_000_000_000)), headers=headers)
        if response.status_code != 200:
            probe.notes.append(f"resolve answered {response.status_code}: {response.text[:200]}")
            probe.resolve_paths = []
            return
        responses.append(response)
    tracks = [r.json().get("track") for r in responses]
    probe.notes.append(
        f"resolve probe: {tracks.count('canary')} of {len(tracks)} random clients got the canary"
    )
    sample = _typical(responses)
    if sample is not None:
        probe.samples["resolve"] = sample
