"""``mcpreg serve``: run the registry on uvicorn."""

from __future__ import annotations

import contextlib
import logging

import typer

from mcpreg.api.app import create_app
from mcpreg.api.runtime import runtime
from mcpreg.api.shutdown import GracefulServer
from mcpreg.cli.local import fail
from mcpreg.errors import RegistryError
from mcpreg.serving import uvicorn_config
from mcpreg.settings import Settings


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8080, help="Port to listen on."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Serve the registry (migrates the database and loads the sample catalogue on first start)."""
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except RegistryError as exc:
        fail(exc)
        return
    if settings.dev:
        logging.getLogger("mcpreg").warning("development mode (MCPREG_DEV): not for production")
    config = uvicorn_config(app, settings, host=host, port=port, log_level=log_level)
    server = GracefulServer(config, runtime(app).drain, settings.shutdown_drain)
    with contextlib.suppress(KeyboardInterrupt):  # what uvicorn.run does: Ctrl-C is a normal stop
        server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's start-up failure status (e.g. the port is taken)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
