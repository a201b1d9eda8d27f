"""Envelope encryption of stored secret values (AES-256-GCM, as in Vault transit and SOPS).

Each value is encrypted under its own fresh 32-byte data key (DEK); the DEK is
wrapped under the ring's primary key-encryption key (KEK). The stored token is::

    mcpreg:v1:<kek_id>:<b64url(wrap_nonce | wrapped_dek)>:<b64url(nonce | ciphertext)>

(unpadded URL-safe base64; each nonce 12 bytes, each ciphertext ends in a 16-byte tag).
The format version and KEK id are in clear so rotation can find stale rows, and both
are authenticated through the associated data (AAD):

* wrap layer AAD  = label "dek"   + format version + KEK id + context
* value layer AAD = label "value" + format version + context

The value layer does not bind the KEK id, so ``rewrap`` moves a token to the primary
key by unwrapping and rewrapping the DEK only, leaving the value part byte-identical.
The context (server, scope, version, environment, name) ties a token to its row: a
token copied to another row fails to unseal.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import struct
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, get_args

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcpreg.crypto.keyring import KEY_BYTES, KeyRing
from mcpreg.errors import SecretDecryptFailed, ValidationFailed

__all__ = [
    "FORMAT_VERSION",
    "SecretContext",
    "SecretScope",
    "SecretValue",
    "key_id_of",
    "rewrap",
    "seal",
    "unseal",
]

FORMAT_VERSION: Final = "v1"
_PREFIX: Final = "mcpreg"
_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_WRAP_BYTES: Final = _NONCE_BYTES + KEY_BYTES + _TAG_BYTES
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_WRAP_LABEL: Final = f"{_PREFIX}:{FORMAT_VERSION}:dek".encode()
_VALUE_LABEL: Final = f"{_PREFIX}:{FORMAT_VERSION}:value".encode()

SecretScope = Literal["server", "release", "environment"]
_SCOPES: Final = frozenset(get_args(SecretScope))


def _length_prefixed(text: str) -> bytes:
    # surrogatepass keeps the encoding total and injective over every Python str.
    raw = text.encode("utf-8", "surrogatepass")
    return struct.pack(">I", len(raw)) + raw


@dataclass(frozen=True, slots=True)
class SecretContext:
    """Where a secret lives; bound into the ciphertext so it cannot be moved to another row.

    ``version`` is "" unless the scope is a release; ``environment`` is "" unless the
    scope is an environment (the codec only requires that sealing and unsealing agree).
    """

    server: str
    scope: SecretScope
    version: str
    environment: str
    name: str

    def __post_init__(self) -> None:
        if self.scope not in _SCOPES:
            raise ValidationFailed(f"secret scope must be one of {sorted(_SCOPES)}", field="scope")
        if not self.server:
            raise ValidationFailed("a secret context needs a server", field="server")
        if not self.name:
            raise ValidationFailed("a secret context needs a name", field="name")

    def canonical_bytes(self) -> bytes:
        """An unambiguous encoding: each field length-prefixed, in a fixed order."""
        fields = (self.server, self.scope, self.version, self.environment, self.name)
        return b"".join(_length_prefixed(field) for field in fields)


class SecretValue:
    """A plaintext secret that never shows itself in ``repr``, ``str``, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plaintext; call it only where the value leaves the process on purpose."""
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        mine = self._value.encode("utf-8", "surrogatepass")
        theirs = other._value.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(mine, theirs)

    __hash__ = None  # type: ignore[assignment]


class _Token(NamedTuple):
    kek_id: str
    wrapped: bytes  # wrap_nonce | wrapped_dek
    wrapped_text: str
    sealed: bytes  # nonce | ciphertext
    sealed_text: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64url_decode(text: str) -> bytes | None:
    """Strict inverse of ``_b64url``: only the canonical unpadded form decodes."""
    if not _B64URL.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if _b64url(raw) == text else None


def _malformed() -> SecretDecryptFailed:
    return SecretDecryptFailed("the stored secret is not a well-formed sealed token")


def _unauthentic() -> SecretDecryptFailed:
    return SecretDecryptFailed(
        "the stored secret failed authentication: it was altered or belongs to another row"
    )


def _parse(token: str) -> _Token:
    parts = token.split(":") if isinstance(token, str) else []
    if len(parts) != 5 or parts[0] != _PREFIX:
        raise _malformed()
    _, version, kek_id, wrapped_text, sealed_text = parts
    if version != FORMAT_VERSION:
        raise SecretDecryptFailed("the stored secret uses an unsupported format version")
    if not _KEY_ID.fullmatch(kek_id):
        raise _malformed()
    wrapped = _b64url_decode(wrapped_text)
    sealed = _b64url_decode(sealed_text)
    if wrapped is None or sealed is None:
        raise _malformed()
    if len(wrapped) != _WRAP_BYTES or len(sealed) < _NONCE_BYTES + _TAG_BYTES:
        raise _malformed()
    return _Token(kek_id, wrapped, wrapped_text, sealed, sealed_text)


def _wrap_aad(kek_id: str, context: SecretContext) -> bytes:
    return _WRAP_LABEL + _length_prefixed(kek_id) + context.canonical_bytes()


def _value_aad(context: SecretContext) -> bytes:
    return _VALUE_LABEL + context.canonical_bytes()


def _wrap(ring: KeyRing, dek: bytes, context: SecretContext) -> str:
    kek_id = ring.primary_id
    nonce = os.urandom(_NONCE_BYTES)
    wrapped = AESGCM(ring.key(kek_id)).encrypt(nonce, dek, _wrap_aad(kek_id, context))
    return _b64url(nonce + wrapped)


def _unwrap(ring: KeyRing, token: _Token, context: SecretContext) -> bytes:
    kek = ring.key(token.kek_id)  # SecretDecryptFailed(code="unknown_key")
    nonce, wrapped = token.wrapped[:_NONCE_BYTES], token.wrapped[_NONCE_BYTES:]
    try:
        return AESGCM(kek).decrypt(nonce, wrapped, _wrap_aad(token.kek_id, context))
    except InvalidTag:
        raise _unauthentic() from None


def _token(kek_id: str, wrapped_text: str, sealed_text: str) -> str:
    return f"{_PREFIX}:{FORMAT_VERSION}:{kek_id}:{wrapped_text}:{sealed_text}"


def seal(ring: KeyRing, plaintext: str | SecretValue, context: SecretContext) -> str:
    """Encrypt ``plaintext`` for the row ``context`` under a fresh data key and the primary key."""
    text = plaintext.reveal() if isinstance(plaintext, SecretValue) else plaintext
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed("a secret value must be valid Unicode text", field="value") from None
    dek = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(dek).encrypt(nonce, data, _value_aad(context))
    return _token(ring.primary_id, _wrap(ring, dek, context), _b64url(nonce + sealed))


def unseal(ring: KeyRing, token: str, context: SecretContext) -> str:
    """Decrypt a token sealed for ``context``; ``SecretDecryptFailed`` on any failure."""
    parsed = _parse(token)
    dek = _unwrap(ring, parsed, context)
    nonce, sealed = parsed.sealed[:_NONCE_BYTES], parsed.sealed[_NONCE_BYTES:]
    try:
        data = AESGCM(dek).decrypt(nonce, sealed, _value_aad(context))
        return data.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise _unauthentic() from None


def rewrap(ring: KeyRing, token: str, context: SecretContext) -> str:
    """Move a token to the primary key without decrypting its value.

    Only the data key is unwrapped (which authenticates the wrap layer) and wrapped
    again; the value part is copied unchanged. A token already under the primary
    key comes back unchanged, so an interrupted rotation can simply run again.
    """
    parsed = _parse(token)
    dek = _unwrap(ring, parsed, context)
    if parsed.kek_id == ring.primary_id:
        return token
    return _token(ring.primary_id, _wrap(ring, dek, context), parsed.sealed_text)


def key_id_of(token: str) -> str:
    """The id of the key a token is sealed under (a parse only, no cryptography)."""
    return _parse(token).kek_id
