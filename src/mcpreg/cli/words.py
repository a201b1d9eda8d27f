"""The CLI's words for what the registry names in a refusal.

The registry names the offending input as a JSON pointer into the body (``/version``)
or a parameter name (``to``, ``force``, ``version``); the user typed an option
(``--to``) or an argument (``NAME@VERSION``). This table says, per command, what the
CLI calls each of them, so that ``refuse`` speaks the words the user typed. A pointer
into a file the user wrote (``publish``, ``draft create``) stays a pointer: it names
the member of that file.
"""

from __future__ import annotations

from collections.abc import Mapping

REF = "NAME@VERSION"
STRATEGY = {"weight": "--canary", "steps": "--steps", "strategy": "--canary/--steps"}
SCOPED = {"version": "--version", "environment": "--env", "scope": "--version/--env"}

COMMON: Mapping[str, str] = {
    "environment": "--env",
    "env": "--env",
    "notes": "--notes",
    "reason": "--reason",
    "server": "NAME",
}

BY_COMMAND: Mapping[str, Mapping[str, str]] = {
    "show": {"version": "NAME[@VERSION|@CHANNEL]"},
    "versions": {},
    "diff": {"version": "A or B", "from": "A", "to": "B"},
    "deprecate": {"version": REF, "statusMessage": "--message"},
    "delete": {"version": REF, "statusMessage": "--message"},
    "restore": {"version": REF, "statusMessage": "--message"},
    "duplicate": {"version": REF, "/version": "NEW_VERSION"},
    "channel set": {"channel": "CHANNEL", "version": "VERSION"},
    "channel rm": {"channel": "CHANNEL"},
    "vars set": {**SCOPED, "name": "VARIABLE", "value": "VALUE"},
    "vars list": SCOPED,
    "vars rm": {**SCOPED, "name": "VARIABLE"},
    "secrets set": {**SCOPED, "name": "SECRET", "value": "the secret's value"},
    "secrets list": SCOPED,
    "secrets rm": {**SCOPED, "name": "SECRET"},
    "config": {"version": "--version", "client": "--client"},
    "deploy": {**STRATEGY, "version": REF, "scheduledAt": "--at", "scheduled_at": "--at"},
    "promote": {**STRATEGY, "version": REF, "from": "--from", "to": "--to", "force": "--force"},
    "approve": {"id": "ID"},
    "rollback": {"version": "--to"},
    "env create": {
        "name": "NAME",
        "position": "--position",
        "description": "--description",
        "protected": "--protected",
        "requiresApproval": "--requires-approval",
        "allowPrereleases": "--allow-prereleases",
        "gatewayPublic": "--gateway-public",
    },
    "env update": {
        "name": "NAME",
        "position": "--position",
        "description": "--description",
        "protected": "--protected/--unprotected",
        "requiresApproval": "--requires-approval/--no-approval",
        "allowPrereleases": "--allow-prereleases/--no-prereleases",
        "gatewayPublic": "--gateway-public/--gateway-private",
    },
    "curate allow": {"pattern": "PATTERN", "upstream": "--upstream", "force": "--force"},
    "curate deny": {"pattern": "PATTERN", "upstream": "--upstream", "force": "--force"},
    "curate forget": {"pattern": "PATTERN", "upstream": "--upstream", "force": "--force"},
    "curate local": {"namespace": "NAMESPACE"},
    "curate pin": {"version": "VERSION"},
    "curate deprecate": {"version": "VERSION", "statusMessage": "--message"},
    "draft edit": {"version": REF},
    "draft publish": {"version": REF},
    "testset put": {"testset": "--name (or the file's name)"},
    "testset show": {"testset": "SET"},
    "testset rm": {"testset": "SET"},
    "testset run": {"testset": "SET", "version": "--version"},
    "testset runs": {"testset": "SET", "id": "--id"},
}

PHRASES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "promotion_skips_environment": (("send force: true", "add --force"),),
    "ambiguous_scope": (("?version=", "--version"), ("?environment=", "--env")),
    "name_mismatch": (("the body's name", "the file's name"),),
    "version_mismatch": (("the body's version", "the file's version"),),
}
"""Per refusal code, API words in the registry's detail and the CLI's words for them."""


def cli_word(command: str, field: str | None) -> str | None:
    """What ``command`` (e.g. ``"vars set"``) calls the registry's ``field``; None when unknown."""
    if field is None:
        return None
    own = BY_COMMAND.get(command, {})
    if field in own:
        return own[field]
    return COMMON.get(field)


def cli_detail(code: str, detail: str) -> str:
    """The registry's ``detail`` with the API's words for inputs replaced by the CLI's."""
    for api, cli in PHRASES.get(code, ()):
        detail = detail.replace(api, cli)
    return detail


def where_label(word: str) -> str:
    """``option`` for ``--to``, ``argument`` for ``NAME@VERSION``."""
    return "option" if word.startswith("--") else "argument"
