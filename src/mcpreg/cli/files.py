"""Reading the JSON files people hand the CLI: UTF-8, with or without a byte-order mark.

Editors on Windows save UTF-8 with a byte-order mark, which JSON parsers may ignore
(RFC 8259, section 8.1), so it is dropped. Anything that is not UTF-8 (Latin-1, UTF-16
from a PowerShell redirect) is refused with the file, the offset and how to fix it;
never with a traceback. Piped stdin (a secret, a token, a draft) is read the same way.
"""

from __future__ import annotations

import codecs
import os
import sys
from pathlib import Path

from mcpreg.cli.remote import usage

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class UnreadableFile(Exception):
    """The file cannot be read as UTF-8 text; the message says why and what to do."""


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``, without a leading byte-order mark."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from None
    return decode(data, str(path))


def decode(data: bytes, label: str) -> str:
    """``data`` as UTF-8 text (a byte-order mark dropped); ``label`` names it in errors."""
    if data.startswith(UTF16_BOMS):
        raise UnreadableFile(f"{label} is UTF-16 text, not UTF-8: save it as UTF-8")
    try:
        return data.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0)
        byte = data[offset : offset + 1].hex()
        raise UnreadableFile(
            f"{label} is not UTF-8 text (byte 0x{byte} at offset {offset}): save it as UTF-8"
        ) from None


def read_stdin(*, line: bool = False) -> str:
    """What is piped on stdin (its first line only with ``line``), as UTF-8 text."""
    data = sys.stdin.buffer.readline() if line else sys.stdin.buffer.read()
    return decode(data, "stdin")


def secret_from(secret_env: str | None, secret_file: Path | None) -> str | None:
    """A webhook signing secret from ``--secret-env VAR`` or ``--secret-file FILE`` (never the
    command line, where shells and ``ps`` keep it); None when neither is given."""
    if secret_env and secret_file:
        usage("give --secret-env or --secret-file, not both", "--secret-env")
    if secret_env:
        value = os.environ.get(secret_env)
        if not value:
            usage(f"the environment variable {secret_env} is not set", "--secret-env")
        return value
    if secret_file:
        try:
            return secret_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            usage(f"cannot read {secret_file}: {exc.strerror}", "--secret-file")
    return None
