"""The console's Jinja2 environment: templates from ``templates/``, autoescaped, with time filters.

Times are written three ways at once: relative ("17 days ago") as the text, the exact UTC
instant in ``<time datetime>`` and its ``title`` (hover), and the viewer's local time, which
``static/console.js`` adds to the title on hover and focus (the server cannot know it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from mcpreg.domain.timestamps import rfc3339

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

NAV: list[tuple[str, str]] = [
    ("/console/", "Catalogue"),
    ("/console/history", "History"),
    ("/console/board", "Environments"),
    ("/console/point-in-time", "Point in time"),
]
"""The console's top navigation, in order (each screen that stands on its own adds its entry)."""

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def relative(moment: datetime, now: datetime | None = None) -> str:
    """``moment`` as people say it: "just now", "17 days ago", "in 3 hours"."""
    seconds = ((now or datetime.now(UTC)) - _aware(moment)).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if future else f"{text} ago"
    return "in a moment" if future else "just now"


def utc_text(moment: datetime) -> str:
    """``2026-12-01 10:40:00 UTC``: the instant in UTC, to the second."""
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def time_tag(moment: datetime | None, now: datetime | None = None) -> Markup:
    """``<time>`` with the relative text, the UTC instant in ``datetime`` and ``title``.

    ``tabindex="0"`` lets keyboard users focus it, which shows the same title as hovering.
    """
    if moment is None:
        return Markup("<span>never</span>")
    iso = rfc3339(_aware(moment))
    return Markup('<time datetime="{}" title="{}" tabindex="0" data-utc="{}">{}</time>').format(
        iso, utc_text(moment), utc_text(moment), relative(moment, now)
    )


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = relative
    env.filters["utc"] = utc_text
    env.filters["timetag"] = time_tag
    env.globals["nav"] = NAV
    return env


templates = Jinja2Templates(env=_environment())


def render(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """One page. Console pages are personal (they follow the session): never cached."""
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    return response
