"""One settings object, read from ``MCPREG_*`` environment variables, failing fast."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mcpreg.errors import ConfigurationError

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_CACHE_BYTES = 128 * 1024 * 1024
DEFAULT_KEEPALIVE_TIMEOUT = 5.0
"""Seconds an idle keep-alive connection stays open after a response."""
DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds a connection has to send a complete request line and headers."""
DEFAULT_GATEWAY_CONNECT_TIMEOUT = 5.0
"""Seconds the gateway waits for an upstream to accept a connection."""
DEFAULT_GATEWAY_TIMEOUT = 60.0
"""Seconds the gateway waits for an upstream's answer (and for each part of a stream)."""
DEFAULT_TRAFFIC_FLUSH_INTERVAL = 5.0
"""Seconds between two writes of a replica's gateway traffic aggregates to the database."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


DEV_ON = frozenset({"1", "true", "yes"})


def _dev_mode(value: str | None) -> bool:
    """``MCPREG_DEV``: on only for ``1``, ``true`` or ``yes`` (any case); anything else is off.

    Development mode relaxes security checks, so a value that merely looks like a flag
    (``disabled``, ``off``, ``2``) must never switch it on.
    """
    return (value or "").strip().lower() in DEV_ON


DEFAULT_MIRROR_POLL = 5.0
DEFAULT_MIRROR_OVERLAP = 60.0


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name) or ""
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}", field=name) from None
    if not 0 < value < 86400:
        raise ConfigurationError(f"{name} must be more than 0 and less than 86400 seconds", field=name)
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment. Secret values stay out of ``repr``."""

    data_dir: Path
    database_url: str
    dev: bool = False
    sample_data: bool = True
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    secret_keys: str | None = field(default=None, repr=False)
    secret_keys_file: Path | None = None
    cache_max_age: int = 0
    cache_bytes: int = DEFAULT_CACHE_BYTES
    scheduler_interval: float = 0.5
    access_log: bool = True
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    forwarded_allow_ips: str | None = None
    migrate_on_start: bool = True
    shutdown_drain: float = 0.0
    shutdown_timeout: float = 20.0
    allow_private_remotes: bool = False  # loopback/private/http remotes (on in dev mode)
    gateway_connect_timeout: float = DEFAULT_GATEWAY_CONNECT_TIMEOUT
    gateway_timeout: float = DEFAULT_GATEWAY_TIMEOUT
    traffic_flush_interval: float = DEFAULT_TRAFFIC_FLUSH_INTERVAL  # gateway aggregates to the database
    metrics_token: str | None = field(default=None, repr=False)  # a scraper's bearer token for /metrics
    metrics_public: bool = False  # /metrics open to anyone (a private network)
    mirror_sync: bool = True  # background sync of due upstreams (one replica at a time, by lease)
    mirror_poll: float = DEFAULT_MIRROR_POLL  # seconds between two looks for a due upstream
    mirror_overlap: float = DEFAULT_MIRROR_OVERLAP  # seconds re-read before a sync's watermark
    redis_url: str | None = field(default=None, repr=False)  # gateway rate limits shared across replicas
    health_checks: bool = True  # the prober (one replica at a time, by lease)
    webhooks: bool = True  # the gate runner and the alerts loop, which POST to configured URLs
    health_interval: float = 10.0  # seconds between two prober passes
    health_timeout: float = 5.0  # seconds a version has to initialize and list its tools
    health_unhealthy_after: int = 3  # consecutive failed probes
    health_healthy_after: int = 2  # consecutive good probes, back from degraded or unhealthy
    analysis_poll: float = 1.0  # seconds between two canary-analysis passes
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cache_control(self) -> str:
        """The ``Cache-Control`` of cacheable reads."""
        return f"public, max-age={self.cache_max_age}" if self.cache_max_age > 0 else "no-cache"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("MCPREG_DATA_DIR") or ".mcpreg").expanduser()
        database_url = env.get("MCPREG_DATABASE_URL") or f"sqlite:///{(data_dir / 'mcpreg.db').resolve()}"
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        if not (database_url.startswith("sqlite") or database_url.startswith("postgresql+psycopg://")):
            raise ConfigurationError(
                "MCPREG_DATABASE_URL must be sqlite:///PATH or postgresql+psycopg://...",
                field="MCPREG_DATABASE_URL",
            )
        try:
            max_body = int(env.get("MCPREG_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES)
            cache_max_age = int(env.get("MCPREG_CACHE_MAX_AGE") or 0)
            cache_bytes = int(env.get("MCPREG_CACHE_BYTES") or DEFAULT_CACHE_BYTES)
            interval = float(env.get("MCPREG_SCHEDULER_INTERVAL") or 0.5)
            shutdown_drain = float(env.get("MCPREG_SHUTDOWN_DRAIN") or 0)
            shutdown_timeout = float(env.get("MCPREG_SHUTDOWN_TIMEOUT") or 20)
        except ValueError as exc:
            raise ConfigurationError(f"a numeric MCPREG_* setting is not a number: {exc}") from None
        if max_body <= 0:
            raise ConfigurationError("MCPREG_MAX_BODY_BYTES must be positive", field="MCPREG_MAX_BODY_BYTES")
        if cache_bytes < 0:
            raise ConfigurationError(
                "MCPREG_CACHE_BYTES must be 0 (no response cache) or more", field="MCPREG_CACHE_BYTES"
            )
        if shutdown_drain < 0 or shutdown_timeout < 0:
            raise ConfigurationError(
                "MCPREG_SHUTDOWN_DRAIN and MCPREG_SHUTDOWN_TIMEOUT are seconds, 0 or more",
                field="MCPREG_SHUTDOWN_DRAIN" if shutdown_drain < 0 else "MCPREG_SHUTDOWN_TIMEOUT",
            )
        keys_file = env.get("MCPREG_SECRET_KEYS_FILE")
        dev = _dev_mode(env.get("MCPREG_DEV"))
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            dev=dev,
            sample_data=_flag(env.get("MCPREG_SAMPLE_DATA"), True),
            max_body_bytes=max_body,
            secret_keys=env.get("MCPREG_SECRET_KEYS") or None,
            secret_keys_file=Path(keys_file) if keys_file else None,
            cache_max_age=cache_max_age,
            cache_bytes=cache_bytes,
            scheduler_interval=interval,
            access_log=_flag(env.get("MCPREG_ACCESS_LOG"), True),
            keepalive_timeout=_seconds(env, "MCPREG_KEEPALIVE_TIMEOUT", DEFAULT_KEEPALIVE_TIMEOUT),
            header_timeout=_seconds(env, "MCPREG_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT),
            forwarded_allow_ips=env.get("MCPREG_FORWARDED_ALLOW_IPS") or None,
            migrate_on_start=_flag(env.get("MCPREG_MIGRATE_ON_START"), True),
            shutdown_drain=shutdown_drain,
            shutdown_timeout=shutdown_timeout,
            allow_private_remotes=_flag(env.get("MCPREG_ALLOW_PRIVATE_REMOTES"), dev),
            gateway_connect_timeout=_seconds(
                env, "MCPREG_GATEWAY_CONNECT_TIMEOUT", DEFAULT_GATEWAY_CONNECT_TIMEOUT
            ),
            gateway_timeout=_seconds(env, "MCPREG_GATEWAY_TIMEOUT", DEFAULT_GATEWAY_TIMEOUT),
            traffic_flush_interval=_seconds(
                env, "MCPREG_TRAFFIC_FLUSH_INTERVAL", DEFAULT_TRAFFIC_FLUSH_INTERVAL
            ),
            metrics_token=env.get("MCPREG_METRICS_TOKEN") or None,
            metrics_public=_flag(env.get("MCPREG_METRICS_PUBLIC"), False),
            mirror_sync=_flag(env.get("MCPREG_MIRROR_SYNC"), True),
            mirror_poll=_seconds(env, "MCPREG_MIRROR_POLL", DEFAULT_MIRROR_POLL),
            mirror_overlap=_seconds(env, "MCPREG_MIRROR_OVERLAP", DEFAULT_MIRROR_OVERLAP),
            redis_url=_redis_url(env.get("MCPREG_REDIS_URL")),
            health_checks=_flag(env.get("MCPREG_HEALTH_CHECKS"), True),
            webhooks=_flag(env.get("MCPREG_WEBHOOKS"), True),
            health_interval=_seconds(env, "MCPREG_HEALTH_INTERVAL", 10.0),
            health_timeout=_seconds(env, "MCPREG_HEALTH_TIMEOUT", 5.0),
            health_unhealthy_after=_count(env, "MCPREG_HEALTH_UNHEALTHY_AFTER", 3),
            health_healthy_after=_count(env, "MCPREG_HEALTH_HEALTHY_AFTER", 2),
            analysis_poll=_seconds(env, "MCPREG_ANALYSIS_POLL", 1.0),
            environ=env,
        )


def _redis_url(value: str | None) -> str | None:
    """``MCPREG_REDIS_URL``: ``redis://`` or ``rediss://`` (TLS), or unset."""
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            "MCPREG_REDIS_URL must be redis://HOST:PORT[/DB], rediss://... or unix://PATH",
            field="MCPREG_REDIS_URL",
        )
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number from 1 to 100, or ``default`` when unset."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
        raise ConfigurationError(f"{name} must be a whole number from 1 to 100", field=name)
    return int(raw)
