"""A root command group that imports a command's module only when that command runs.

``mcpreg publish`` needs httpx and Rich; ``mcpreg serve`` needs Starlette, SQLAlchemy
and Alembic. Importing every module on every start made each call pay about a second
of imports it did not use (most of the CLI test suite's time). The root group knows
which modules define which command names and imports them on first use; ``--help``
imports them all, to list them.

A module defines its commands with ``register(app: typer.Typer)``, or exposes a Typer
``app`` that becomes the group named after it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup


def lazy_group(modules: Mapping[str, Sequence[str]]) -> type[TyperGroup]:
    """A group class for ``typer.Typer(cls=...)``; ``modules`` maps a module to its command names."""
    order = [name for names in modules.values() for name in names]
    providers: dict[str, list[str]] = {}
    for module, names in modules.items():
        for name in names:
            providers.setdefault(name, []).append(module)

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            known = list(dict.fromkeys(order))
            return known + [name for name in super().list_commands(ctx) if name not in known]

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name not in self.commands and cmd_name in providers:
                self._load(cmd_name)
            return super().get_command(ctx, cmd_name)

        def _load(self, cmd_name: str) -> None:
            holder = typer.Typer()
            for module_name in providers[cmd_name]:
                module = importlib.import_module(module_name)
                register = getattr(module, "register", None)
                if register is not None:
                    register(holder)
                else:
                    holder.add_typer(module.app, name=cmd_name)
            for name, command in typer.main.get_group(holder).commands.items():
                self.commands.setdefault(name, command)

    return LazyGroup
