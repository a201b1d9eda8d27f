"""The console's routes, all under ``/console`` (one ``Mount`` in ``api.routes``).

Starlette tries them in order; no two match the same path and method. Server pages take
the server name as two segments (``{namespace}/{server}``), as the API does.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mcpreg.console import (
    board,
    catalogue,
    compare,
    config,
    deploy,
    history,
    rollouts,
    servers,
    signin,
    timeline,
    waiting,
)
from mcpreg.console.templating import STATIC

PREFIX = "/console"
SERVER = "/servers/{namespace}/{server}"


def routes() -> list[BaseRoute]:
    return [
        Mount(
            PREFIX,
            routes=[
                Route("/", catalogue.catalogue, methods=["GET"]),
                Route("/signin", signin.signin_form, methods=["GET"]),
                Route("/signin", signin.signin, methods=["POST"]),
                Route("/signout", signin.signout, methods=["POST"]),
                Route("/history", history.history_page, methods=["GET"]),
                Route(SERVER, servers.server_page, methods=["GET"]),
                Route(f"{SERVER}/compare", compare.compare, methods=["GET"]),
                Route(f"{SERVER}/channels", servers.move_channel, methods=["POST"]),
                Route(f"{SERVER}/versions/{{version}}/edit", servers.edit_page, methods=["GET"]),
                Route(f"{SERVER}/versions/{{version}}/edit", servers.save_draft, methods=["POST"]),
                Route(f"{SERVER}/versions/{{version}}/duplicate", servers.duplicate, methods=["POST"]),
                Route(f"{SERVER}/versions/{{version}}/publish", servers.publish, methods=["POST"]),
                Route(f"{SERVER}/versions/{{version}}/status", servers.set_status, methods=["POST"]),
                Route(f"{SERVER}/config", config.config_page, methods=["GET"]),
                Route(f"{SERVER}/config/variables", config.set_variable, methods=["POST"]),
                Route(f"{SERVER}/config/secrets", config.set_secret, methods=["POST"]),
                Route(f"{SERVER}/config/reveal", config.reveal, methods=["POST"]),
                # Operations (console-ops): the environment board, a target's rollout panel and
                # its six actions, a waiting request's approve and cancel, the deploy and promote dialogs,
                # point in time.
                Route("/board", board.show, methods=["GET"]),
                Route("/point-in-time", timeline.show, methods=["GET"]),
                Route("/environments/{env}/deploy", deploy.deploy_form, methods=["GET"]),
                Route("/environments/{env}/deploy", deploy.deploy, methods=["POST"]),
                Route(f"/environments/{{env}}{SERVER}/rollout", rollouts.panel, methods=["GET"]),
                Route(f"/environments/{{env}}{SERVER}/rollout/{{action}}", rollouts.confirm, methods=["GET"]),
                Route(f"/environments/{{env}}{SERVER}/rollout/{{action}}", rollouts.act, methods=["POST"]),
                Route(
                    "/environments/{env}/deployments/{id:int}/{decision}", waiting.confirm, methods=["GET"]
                ),
                Route(
                    "/environments/{env}/deployments/{id:int}/{decision}", waiting.decide, methods=["POST"]
                ),
                Route(f"/environments/{{env}}{SERVER}/promote", deploy.promote_form, methods=["GET"]),
                Route(f"/environments/{{env}}{SERVER}/promote", deploy.promote, methods=["POST"]),
                Mount("/static", app=StaticFiles(directory=STATIC), name="console-static"),
            ],
        )
    ]
