"""The secret codec and key ring: envelope encryption of stored configuration secrets."""

from mcpreg.crypto.codec import (
    FORMAT_VERSION,
    SecretContext,
    SecretScope,
    SecretValue,
    key_id_of,
    rewrap,
    seal,
    unseal,
)
from mcpreg.crypto.keyring import INSECURE_KEYS, KeyRing, generate_entry, load_keyring

__all__ = [
    "FORMAT_VERSION",
    "INSECURE_KEYS",
    "KeyRing",
    "SecretContext",
    "SecretScope",
    "SecretValue",
    "generate_entry",
    "key_id_of",
    "load_keyring",
    "rewrap",
    "seal",
    "unseal",
]
