"""The key ring: the key-encryption keys (KEKs) that protect stored secrets.

The ring comes from ``MCPREG_SECRET_KEYS`` (or the file named by
``MCPREG_SECRET_KEYS_FILE``) as comma-separated ``KEYID:BASE64URL`` entries::

    MCPREG_SECRET_KEYS="k2026b:3q2-7wAB...,k2025a:AAEC..."

Every key is exactly 32 bytes (AES-256). The first entry is the primary: it
seals every new secret. Every entry unseals. Rotation, as in Kubernetes
encryption at rest: put the new key first, rewrap every stored secret
(``codec.rewrap``), then drop the old key.

Nothing here ever puts key material into a message, a ``repr`` or an error.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import itertools
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from mcpreg.errors import ConfigurationError, SecretDecryptFailed, ValidationFailed

__all__ = [
    "ENV_KEYS",
    "ENV_KEYS_FILE",
    "INSECURE_KEYS",
    "KEY_BYTES",
    "KeyRing",
    "generate_entry",
    "key_weakness",
    "load_keyring",
]

ENV_KEYS = "MCPREG_SECRET_KEYS"
ENV_KEYS_FILE = "MCPREG_SECRET_KEYS_FILE"
DEV_KEYS_FILENAME = "secret-keys"
KEY_BYTES = 32

INSECURE_KEYS: frozenset[bytes] = frozenset(
    {
        bytes(KEY_BYTES),
        b"0" * KEY_BYTES,
        b"\xff" * KEY_BYTES,
        b"changeme" * (KEY_BYTES // 8),
        b"0123456789abcdef" * (KEY_BYTES // 16),
    }
)
"""Well-known placeholder keys that are refused outside development mode."""

_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_GENERATE_HINT = "generate an entry with: mcpreg secrets generate-key"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode_key(text: str) -> bytes | None:
    """Strict URL-safe base64 (padding optional, canonical only); ``None`` when invalid."""
    if not _B64URL.fullmatch(text):
        return None
    unpadded = text.rstrip("=")
    if len(text) != len(unpadded) and len(text) % 4 != 0:
        return None
    try:
        raw = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if _b64url(raw) == unpadded else None


def _entry_error(position: int, problem: str) -> ConfigurationError:
    return ConfigurationError(f"secret key entry {position}: {problem}", field=ENV_KEYS)


# Thresholds of the low-entropy rule. Over 32 random bytes each one is astronomically unlikely
# (the measured minimum Shannon entropy of 300,000 random keys was 4.35 bits per byte, the most
# frequent byte value never appeared more than 5 times), so a random key always passes.
_MAX_SAME_BYTE = 10
_MAX_PERIOD = 16
_MAX_STEP_PERIOD = 8
_MIN_BITS_PER_BYTE = 3.5


def _period(values: Sequence[int], longest: int) -> int | None:
    """The shortest period ``p <= longest`` with ``values[i] == values[i + p]`` everywhere, if any."""
    for period in range(1, min(longest, len(values) - 1) + 1):
        if all(values[i] == values[i + period] for i in range(len(values) - period)):
            return period
    return None


def _bits_per_byte(key: bytes) -> float:
    counts = Counter(key)
    return -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())


def key_weakness(key: bytes) -> str | None:
    """Why ``key`` is not 32 random bytes (a client-safe reason naming no key material), or ``None``.

    Refused: a well-known placeholder; at most two distinct byte values (all-zero-but-one);
    one byte value in more than a quarter of the key; counting by a constant step (mod 256);
    a repeating pattern of up to 16 bytes; byte-to-byte steps repeating every 8 or fewer;
    under 3.5 bits of Shannon entropy per byte; printable ASCII only (a password).
    """
    if len(key) != KEY_BYTES:
        return f"it is {len(key)} bytes, not {KEY_BYTES}"
    if key in INSECURE_KEYS:
        return "it is a well-known placeholder"
    distinct = len(set(key))
    if distinct <= 2:
        return f"it has only {distinct} distinct byte value{'s' if distinct > 1 else ''}"
    same = max(Counter(key).values())
    if same >= _MAX_SAME_BYTE:
        return f"{same} of its {len(key)} bytes are the same value"
    steps = [(b - a) % 256 for a, b in itertools.pairwise(key)]
    if len(set(steps)) == 1:
        return f"it counts by a constant step ({steps[0] if steps[0] < 128 else steps[0] - 256:+d})"
    period = _period(key, _MAX_PERIOD)
    if period is not None:
        return f"it repeats a {period}-byte pattern"
    step_period = _period(steps, _MAX_STEP_PERIOD)
    if step_period is not None:
        return f"its byte-to-byte steps repeat every {step_period} bytes"
    bits = _bits_per_byte(key)
    if bits < _MIN_BITS_PER_BYTE:
        return f"its Shannon entropy is {bits:.1f} bits per byte (random keys have about 4.9)"
    if all(0x20 <= b < 0x7F for b in key):
        # A random 32-byte key is all printable ASCII with probability about 1e-14.
        return "it is printable text (a password), not random bytes"
    return None


class KeyRing:
    """An ordered set of named 32-byte keys; the first one is the primary."""

    __slots__ = ("_keys", "_primary")

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ConfigurationError("the secret key ring is empty", field=ENV_KEYS)
        ring: dict[str, bytes] = {}
        positions: dict[str, int] = {}
        owners: dict[bytes, int] = {}
        for position, (key_id, key) in enumerate(keys, start=1):
            # Errors name the entry's position only: a malformed "id" may be pasted key material.
            if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
                raise _entry_error(position, "the key id must match [A-Za-z0-9_.-]{1,32}")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise _entry_error(position, f"the key must be exactly {KEY_BYTES} bytes; {_GENERATE_HINT}")
            if key_id in ring:
                raise _entry_error(position, f"the key id is already used by entry {positions[key_id]}")
            if key in owners:
                raise _entry_error(position, f"the key is the same as entry {owners[key]}'s")
            ring[key_id] = bytes(key)
            positions[key_id] = position
            owners[key] = position
        self._keys = ring
        self._primary = next(iter(ring))

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Parse ``KEYID:BASE64URL[,KEYID:BASE64URL...]``; raise ``ConfigurationError`` if unusable."""
        if not text.strip():
            raise ConfigurationError("the secret key ring is empty", field=ENV_KEYS)
        entries: list[tuple[str, bytes]] = []
        for position, raw_entry in enumerate(text.split(","), start=1):
            entry = raw_entry.strip()
            if not entry:
                raise _entry_error(position, "the entry is empty")
            key_id, sep, encoded = entry.partition(":")
            if not sep:
                raise _entry_error(position, "the entry is not of the form KEYID:BASE64URL")
            if not _KEY_ID.fullmatch(key_id):
                raise _entry_error(position, "the key id must match [A-Za-z0-9_.-]{1,32}")
            key = _decode_key(encoded)
            if key is None:
                raise _entry_error(position, "the key is not URL-safe base64 ('-' and '_', padding optional)")
            if len(key) != KEY_BYTES:
                raise _entry_error(
                    position, f"the key decodes to {len(key)} bytes, not {KEY_BYTES}; {_GENERATE_HINT}"
                )
            entries.append((key_id, key))
        return cls(entries)

    @property
    def primary_id(self) -> str:
        """The id of the key that seals new secrets."""
        return self._primary

    @property
    def ids(self) -> tuple[str, ...]:
        """Every key id, primary first."""
        return tuple(self._keys)

    def key(self, key_id: str) -> bytes:
        """The key bytes for ``key_id``; ``SecretDecryptFailed(code="unknown_key")`` when absent."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise SecretDecryptFailed(
                f"the secret is sealed under key {key_id!r}, which is not in {ENV_KEYS}",
                code="unknown_key",
            ) from None

    def insecure_ids(self) -> tuple[str, ...]:
        """Ids of keys that are well-known placeholders or plainly not random."""
        return tuple(self.weaknesses())

    def weaknesses(self) -> dict[str, str]:
        """Each low-entropy key's id and why it was judged so (see ``key_weakness``)."""
        found = ((key_id, key_weakness(key)) for key_id, key in self._keys.items())
        return {key_id: reason for key_id, reason in found if reason is not None}

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(primary={self._primary!r}, ids={self.ids!r})"

    __str__ = __repr__


def generate_entry(key_id: str | None = None) -> str:
    """A fresh ``KEYID:BASE64URL`` entry; the default id is ``k`` + UTC date + random hex."""
    if key_id is None:
        key_id = f"k{dt.datetime.now(dt.UTC):%Y%m%d}{secrets.token_hex(3)}"
    elif not _KEY_ID.fullmatch(key_id):
        raise ValidationFailed("a key id must match [A-Za-z0-9_.-]{1,32}", field="key_id")
    return f"{key_id}:{_b64url(secrets.token_bytes(KEY_BYTES))}"


def _read_keys_file(path: Path, setting: str) -> KeyRing:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {type(exc).__name__}", field=setting) from None
    try:
        return KeyRing.parse(text)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc.detail}", field=setting) from None


def _create_dev_keys_file(path: Path) -> None:
    """Write a fresh one-key ring to ``path`` (0600) unless a concurrent start got there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(generate_entry() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # publish only if absent: the first file wins
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _dev_keyring(data_dir: Path) -> tuple[KeyRing, str]:
    """Reuse ``data_dir/secret-keys``, creating it on the first development start."""
    path = data_dir / DEV_KEYS_FILENAME
    if not path.exists():
        try:
            _create_dev_keys_file(path)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the development key file {path}: {type(exc).__name__}", field=ENV_KEYS
            ) from None
    ring = _read_keys_file(path, ENV_KEYS)
    warning = (
        f"{ENV_KEYS} is not set: development mode is using the generated key ring in {path}. "
        "Secrets sealed with it cannot be read without that file. NEVER use this outside development."
    )
    return ring, warning


def load_keyring(env: Mapping[str, str], data_dir: Path, dev: bool) -> tuple[KeyRing, str | None]:
    """The key ring from the environment, and a warning to log loudly (or ``None``).

    ``MCPREG_SECRET_KEYS`` holds the ring itself, ``MCPREG_SECRET_KEYS_FILE`` names a file
    holding it (setting both is refused). With neither, development mode generates a ring
    into ``data_dir/secret-keys`` and reuses it on later starts; otherwise startup is
    refused. Outside development mode, placeholder or non-random keys are refused too.
    """
    inline = env.get(ENV_KEYS, "").strip()
    file_name = env.get(ENV_KEYS_FILE, "").strip()
    warning: str | None = None
    if inline and file_name:
        raise ConfigurationError(f"set only one of {ENV_KEYS} and {ENV_KEYS_FILE}", field=ENV_KEYS)
    if inline:
        ring = KeyRing.parse(inline)
    elif file_name:
        ring = _read_keys_file(Path(file_name), ENV_KEYS_FILE)
    elif dev:
        ring, warning = _dev_keyring(data_dir)
    else:
        raise ConfigurationError(
            f"refusing to start without {ENV_KEYS} (or {ENV_KEYS_FILE}) outside development mode; "
            f"{_GENERATE_HINT}",
            field=ENV_KEYS,
        )
    weak = ring.weaknesses()
    reasons = "; ".join(f"{key_id!r}: {reason}" for key_id, reason in weak.items())
    if weak and not dev:
        raise ConfigurationError(
            f"refusing low-entropy secret keys outside development mode ({reasons}): "
            f"use 32 random bytes; {_GENERATE_HINT}",
            field=ENV_KEYS,
        )
    if weak:
        note = f"low-entropy secret keys accepted only because development mode is on ({reasons})"
        warning = note if warning is None else f"{warning} {note}"
    return ring, warning
