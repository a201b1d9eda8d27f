"""The Python client of an mcpreg registry, sync (``Registry``) and async (``AsyncRegistry``).

>>> from mcpreg.client import Registry, NoDeployment
>>> registry = Registry("https://registry.example.com", cache_ttl=30)
>>> registry.get_server("io.github.acme/weather", environment="production", client_id="svc-7").version

Reads are cached per URL for ``cache_ttl`` seconds and then revalidated with the ETag
(a 304 costs no body); ``cache_ttl=0`` revalidates every read. Refusals raise the typed
errors below, each carrying the registry's ``code``, ``detail``, ``field`` and ``status``.
"""

from mcpreg.client.aio import AsyncRegistry
from mcpreg.client.calls import Call
from mcpreg.client.errors import (
    Conflict,
    NoDeployment,
    NotFound,
    PermissionDenied,
    RegistryClientError,
    ServerError,
    Unauthenticated,
    Unreachable,
    ValidationFailed,
)
from mcpreg.client.models import Release
from mcpreg.client.sync import Registry

__all__ = [
    "AsyncRegistry",
    "Call",
    "Conflict",
    "NoDeployment",
    "NotFound",
    "PermissionDenied",
    "Registry",
    "RegistryClientError",
    "Release",
    "ServerError",
    "Unauthenticated",
    "Unreachable",
    "ValidationFailed",
]
