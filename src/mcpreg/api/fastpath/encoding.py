"""The gzip representation of a cached answer: the codec, its ETag, and who accepts it."""

from __future__ import annotations

import zlib

GZIP_MIN = 8192  # bodies from this size up are stored (and sent, when accepted) gzip-compressed
GZIP_LEVEL = 6
GZIP_WBITS = 31  # zlib's gzip container (its header carries no name and a zero mtime)
GZIP_HEADER = (b"content-encoding", b"gzip")


def gzip(body: bytes) -> bytes:
    """``body`` gzip-compressed, the same bytes every time (no name, no time in the header)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
    return compressor.compress(body) + compressor.flush()


def gunzip(body: bytes) -> bytes:
    return zlib.decompress(body, GZIP_WBITS)


def gzip_etag(etag: str) -> str:
    """The strong ETag of the gzip representation of the answer whose ETag is ``etag``."""
    return etag[:-1] + '-gzip"'


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value lists gzip with a non-zero q (RFC 9110 12.5.3).

    Minimal on purpose: ``*`` and ``x-gzip`` are not taken as gzip, and an unreadable q
    counts as a refusal, so a doubtful request gets the identity body.
    """
    if not accept_encoding:
        return False
    for coding in accept_encoding.split(","):
        name, _, params = coding.partition(";")
        if name.strip().lower() != "gzip":
            continue
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value.strip()) > 0
                except ValueError:
                    return False
        return True
    return False
