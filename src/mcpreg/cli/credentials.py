"""The per-user credentials file written by ``mcpreg login``.

``$MCPREG_CONFIG``, else ``$XDG_CONFIG_HOME/mcpreg/config.json``, else
``~/.config/mcpreg/config.json``. It maps registry URLs to tokens and remembers the
default registry. It is created with mode 0600 from the start (a temporary file opened
with that mode, then renamed over the old one), so a token is never readable by others,
not even for an instant.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def config_path() -> Path:
    explicit = os.environ.get("MCPREG_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mcpreg" / "config.json"


@dataclass
class Credentials:
    default_url: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def token_for(self, url: str) -> str | None:
        return self.tokens.get(url.rstrip("/"))

    @classmethod
    def load(cls, path: Path | None = None) -> Credentials:
        """The stored credentials; an absent or unreadable file means none."""
        path = path or config_path()
        try:
            data: Any = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        listed = data.get("registries")
        registries: dict[str, Any] = listed if isinstance(listed, dict) else {}
        tokens = {
            str(url): str(entry["token"])
            for url, entry in registries.items()
            if isinstance(entry, dict) and isinstance(entry.get("token"), str)
        }
        default = data.get("default")
        return cls(default_url=default if isinstance(default, str) else None, tokens=tokens)

    def save(self, path: Path | None = None) -> Path:
        path = path or config_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "default": self.default_url,
            "registries": {url: {"token": token} for url, token in sorted(self.tokens.items())},
        }
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(data, handle, indent=2)
                handle.write("\n")
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return path
