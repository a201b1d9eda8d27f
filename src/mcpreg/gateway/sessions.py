"""The gateway's own ``Mcp-Session-Id``: an AES-GCM seal of where a legacy session is pinned.

A legacy client keeps the session id mcpreg gave it at ``initialize``. It carries the
version the session was opened on, the rollout id it was routed under, the upstream's own
session id and the routing key, sealed with a key of the registry's key ring. Any replica
opens it and forwards without shared state; nobody else can read or forge one.

Format (URL-safe base64, no padding): ``s1.<key id>.<nonce || ciphertext+tag>``. Each key
of the ring is used through an HKDF-SHA256 subkey for this purpose only (the ring's keys
also seal secrets), and the format version, key id, server and environment are the
associated data: a session id of another server or environment does not open here. As in
python-sdk's request-state codec, the primary key seals and every key opens.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mcpreg.crypto.keyring import KeyRing

FORMAT = "s1"
_INFO = b"mcpreg/gateway-session/v1"
_NONCE_BYTES = 12
MAX_TOKEN_CHARS = 4096  # a longer header is not one of ours


@dataclass(frozen=True)
class PinnedSession:
    """What a sealed session id says."""

    version: str  # the release the session was opened on
    rollout_id: str | None  # the rollout it was routed under (None: no rollout then)
    upstream: str | None  # the upstream's own Mcp-Session-Id (None: it issued none)
    key: str | None  # the routing key the session was opened with (None: none, stable)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


class SessionSeal:
    """Seals and opens session ids with a key ring."""

    def __init__(self, ring: KeyRing) -> None:
        self._primary = ring.primary_id
        self._aead = {key_id: AESGCM(self._subkey(ring.key(key_id))) for key_id in ring.ids}

    @staticmethod
    def _subkey(key: bytes) -> bytes:
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO).derive(key)

    @staticmethod
    def _aad(key_id: str, server: str, environment: str) -> bytes:
        return b"\x00".join(part.encode() for part in (FORMAT, key_id, server, environment))

    def seal(self, pinned: PinnedSession, *, server: str, environment: str) -> str:
        payload = orjson.dumps([pinned.version, pinned.rollout_id, pinned.upstream, pinned.key])
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead[self._primary].encrypt(
            nonce, payload, self._aad(self._primary, server, environment)
        )
        return f"{FORMAT}.{self._primary}.{_b64(nonce + sealed)}"

    def open(self, token: str, *, server: str, environment: str) -> PinnedSession | None:
        """The session ``token`` seals for this server and environment; None when it is not one."""
        if len(token) > MAX_TOKEN_CHARS:
            return None
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != FORMAT or parts[1] not in self._aead:
            return None
        raw = _unb64(parts[2])
        if raw is None or len(raw) <= _NONCE_BYTES:
            return None
        try:
            payload = self._aead[parts[1]].decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._aad(parts[1], server, environment)
            )
        except InvalidTag:
            return None
        version, rollout_id, upstream, key = orjson.loads(payload)
        return PinnedSession(version, rollout_id, upstream, key)
