"""A deterministic synthetic catalogue of server.json documents.

The shapes follow the official seed (npm, pypi, oci, nuget and mcpb packages with stdio
transport, environment variables, icons, streamable-http and sse remotes), but every
document is generated here: nothing is copied from the reference files. Each server gets
``RELEASES_PER_SERVER`` releases, a mix of stable versions and ``-alpha.N``/``-beta.N``/``-rc.N``
pre-releases, always in increasing semver order.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
RELEASES_PER_SERVER = 10
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
RANGE_MARKERS = ("^", "~", ">", "<", "=", "*", "x", " ", "||")

OWNERS = (
    "acme",
    "northwind",
    "contoso",
    "initech",
    "globex",
    "umbrella",
    "hooli",
    "piedpiper",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "aperture",
    "blackmesa",
    "oscorp",
    "vandelay",
    "dunder",
    "gringotts",
    "monsters",
    "soylent",
    "nakatomi",
    "massive",
    "duff",
)
TOPICS = (
    ("weather", "weather forecasts and alerts"),
    ("github", "GitHub issues, pull requests and repos"),
    ("postgres", "PostgreSQL schemas and read-only queries"),
    ("slack", "Slack channels and messages"),
    ("notion", "Notion pages and databases"),
    ("jira", "Jira issues and sprints"),
    ("airtable", "Airtable bases, tables and records"),
    ("calendar", "calendar events and free slots"),
    ("files", "local files under an allowed root"),
    ("search", "web search results and snippets"),
    ("browser", "a headless browser session"),
    ("sqlite", "SQLite databases on disk"),
    ("redis", "Redis keys and streams"),
    ("s3", "S3 buckets and objects"),
    ("kubernetes", "Kubernetes workloads and logs"),
    ("docker", "Docker containers and images"),
    ("time", "the current time in RFC 3339 format"),
    ("maps", "geocoding and routing"),
    ("stripe", "Stripe customers and invoices"),
    ("linear", "Linear issues and cycles"),
    ("sentry", "Sentry errors and releases"),
    ("gmail", "Gmail threads and labels"),
    ("drive", "Google Drive documents"),
    ("figma", "Figma files and components"),
    ("translate", "text translation between languages"),
    ("pdf", "PDF text and metadata"),
)
VERBS = ("Read and write", "Query", "Browse", "Search", "Manage", "Inspect", "Summarise", "Automate")
FLAVOURS = ("server", "mcp", "bridge", "tools", "connector", "gateway", "lite", "pro")
PRERELEASE_TAGS = ("alpha", "beta", "rc")


@dataclass(frozen=True)
class CatalogueFile:
    """A catalogue written to disk: its path, release count and distinct server names."""

    path: Path
    releases: int
    names: tuple[str, ...]


def _version_line(rng: random.Random, count: int) -> list[str]:
    """``count`` increasing semver strings, with pre-releases before some stable versions."""
    major, minor, patch = rng.choice((0, 1, 1, 2)), rng.randint(0, 4), 0
    out: list[str] = []
    while len(out) < count:
        bump = rng.random()
        if bump < 0.1:
            major, minor, patch = major + 1, 0, 0
        elif bump < 0.45:
            minor, patch = minor + 1, 0
        else:
            patch += 1
        core = f"{major}.{minor}.{patch}"
        if rng.random() < 0.3:
            tag = rng.choice(PRERELEASE_TAGS)
            for n in range(1, rng.randint(1, 2) + 1):
                if len(out) < count:
                    out.append(f"{core}-{tag}.{n}")
        if len(out) < count:
            out.append(core)
    return out


def _env_vars(rng: random.Random, topic: str) -> list[dict[str, Any]]:
    upper = topic.upper()
    pool: list[dict[str, Any]] = [
        {
            "name": f"{upper}_API_KEY",
            "description": f"{topic.capitalize()} API key. Create one in your account settings.",
            "isRequired": True,
            "isSecret": True,
        },
        {"name": f"{upper}_BASE_URL", "description": "Override the API endpoint.", "default": ""},
        {
            "name": "LOG_LEVEL",
            "description": "Log verbosity.",
            "default": "info",
            "choices": ["debug", "info"],
        },
        {"name": f"{upper}_TIMEOUT", "description": "Request timeout in seconds.", "format": "number"},
    ]
    return pool[: rng.randint(0, 3)]


def _packages(rng: random.Random, owner: str, slug: str, version: str, topic: str) -> list[dict[str, Any]]:
    env = _env_vars(rng, topic)
    kinds = rng.sample(("npm", "pypi", "oci", "nuget", "mcpb"), k=rng.choice((1, 1, 2, 2, 3)))
    out: list[dict[str, Any]] = []
    for kind in kinds:
        pkg: dict[str, Any]
        if kind == "npm":
            ident = f"@{owner}/{slug}" if rng.random() < 0.5 else slug
            pkg = {"registryType": "npm", "identifier": ident, "version": version, "runtimeHint": "npx"}
        elif kind == "pypi":
            pkg = {"registryType": "pypi", "identifier": slug, "version": version, "runtimeHint": "uvx"}
        elif kind == "oci":
            pkg = {"registryType": "oci", "identifier": f"docker.io/{owner}/{slug}:{version}"}
            pkg["runtimeHint"] = "docker"
            if rng.random() < 0.5:
                pkg["runtimeArguments"] = [{"type": "named", "name": "--rm"}, {"type": "named", "name": "-i"}]
        elif kind == "nuget":
            ident = "".join(part.capitalize() for part in slug.split("-"))
            pkg = {"registryType": "nuget", "identifier": ident, "version": version, "runtimeHint": "dnx"}
        else:
            url = f"https://github.com/{owner}/{slug}/releases/download/v{version}/{slug}.mcpb"
            digest = hashlib.sha256(url.encode()).hexdigest()
            pkg = {"registryType": "mcpb", "identifier": url, "fileSha256": digest}
        pkg["transport"] = {"type": "stdio"}
        if env and kind != "mcpb":
            pkg["environmentVariables"] = env
        if kind in ("npm", "pypi") and rng.random() < 0.2:
            pkg["packageArguments"] = [{"type": "positional", "valueHint": "directory", "isRequired": True}]
        out.append(pkg)
    return out


def _remotes(rng: random.Random, owner: str, slug: str) -> list[dict[str, Any]]:
    kind = rng.choice(("streamable-http", "streamable-http", "sse"))
    path = "mcp" if kind == "streamable-http" else "sse"
    # One endpoint per server: the registry refuses a remote URL another server already uses.
    remote: dict[str, Any] = {"type": kind, "url": f"https://{slug}.{owner}.example.com/{path}"}
    if rng.random() < 0.5:
        remote["headers"] = [
            {"name": "Authorization", "description": "Bearer token.", "isRequired": True, "isSecret": True}
        ]
    return [remote]


def _server(rng: random.Random, index: int) -> tuple[str, dict[str, Any]]:
    """A server's invariant fields (name, description, repository...) without a version."""
    owner = OWNERS[index % len(OWNERS)]
    topic, what = TOPICS[(index // len(OWNERS)) % len(TOPICS)]
    flavour = FLAVOURS[rng.randrange(len(FLAVOURS))]
    slug = f"{topic}-{flavour}-{index}"
    style = index % 4
    if style == 0:
        name = f"io.github.{owner}/{slug}"
    elif style == 1:
        name = f"com.{owner}/{slug}"
    elif style == 2:
        name = f"ai.{owner}.mcp/{slug}"
    else:
        name = f"io.{owner}-labs/{slug}"
    description = f"{rng.choice(VERBS)} {what} from MCP clients."[:100]
    base: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "name": name,
        "description": description,
        "repository": {
            "url": f"https://github.com/{owner}/{slug}" + (".git" if rng.random() < 0.5 else ""),
            "source": "github",
        },
    }
    if rng.random() < 0.3:
        base["title"] = f"{topic.capitalize()} {flavour.capitalize()}"
    if rng.random() < 0.3:
        base["websiteUrl"] = f"https://{owner}.example.com/{slug}"
    if rng.random() < 0.2:
        icon = {
            "src": f"https://{owner}.example.com/icon-32.png",
            "mimeType": "image/png",
            "sizes": ["32x32"],
        }
        base["icons"] = [icon]
    return owner, base


def generate(releases: int, seed: int = 20251211) -> Iterator[dict[str, Any]]:
    """Yield ``releases`` server.json documents: ``releases // 10`` servers x 10 versions each."""
    rng = random.Random(seed + releases)
    servers = max(1, releases // RELEASES_PER_SERVER)
    emitted = 0
    for index in range(servers):
        owner, base = _server(rng, index)
        slug = base["name"].split("/", 1)[1]
        topic = slug.split("-", 1)[0]
        has_packages = rng.random() < 0.85
        has_remotes = not has_packages or rng.random() < 0.15
        count = RELEASES_PER_SERVER if index < servers - 1 else releases - emitted
        for version in _version_line(rng, count):
            doc = dict(base)
            doc["version"] = version
            if has_packages:
                doc["packages"] = _packages(rng, owner, slug, version, topic)
            if has_remotes:
                doc["remotes"] = _remotes(rng, owner, slug)
            emitted += 1
            yield doc


def check_document(doc: dict[str, Any]) -> list[str]:
    """Cheap structural checks the schema cannot express (names, description length, no ranges)."""
    problems: list[str] = []
    if not NAME_PATTERN.match(doc["name"]):
        problems.append(f"bad name {doc['name']!r}")
    if len(doc.get("description", "")) > 100:
        problems.append(f"description over 100 chars in {doc['name']}")
    for pkg in doc.get("packages", []):
        version = pkg.get("version")
        if version is not None and (version == "latest" or any(m in version for m in RANGE_MARKERS)):
            problems.append(f"package version range {version!r} in {doc['name']}")
    return problems


def validate(docs: list[dict[str, Any]], schema_path: Path | None, sample: int = 500) -> str:
    """Validate a deterministic sample against the official schema; a one-line verdict."""
    rng = random.Random(7)
    picked = docs if len(docs) <= sample else rng.sample(docs, sample)
    problems = [p for doc in picked for p in check_document(doc)]
    if schema_path is None or not schema_path.is_file():
        verdict = "schema not found, structural checks only"
    else:
        try:
            import jsonschema
        except ImportError:
            verdict = "jsonschema not installed, structural checks only"
        else:
            validator = jsonschema.Draft7Validator(json.loads(schema_path.read_text()))
            for doc in picked:
                problems.extend(
                    f"{doc['name']}@{doc['version']}: {e.message}" for e in validator.iter_errors(doc)
                )
            verdict = "valid against server.schema.json"
    if problems:
        return f"{len(problems)} problems in {len(picked)} sampled documents, first: {problems[0]}"
    return f"{len(picked)} sampled documents {verdict}"


def write(releases: int, out_dir: Path) -> tuple[CatalogueFile, list[dict[str, Any]]]:
    """Generate and write ``catalogue-<releases>.json``; return the file description and documents."""
    docs = list(generate(releases))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"catalogue-{releases}.json"
    path.write_bytes(orjson.dumps(docs))
    names = tuple(dict.fromkeys(doc["name"] for doc in docs))
    return CatalogueFile(path=path, releases=len(docs), names=names), docs
