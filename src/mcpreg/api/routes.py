"""Every route of the service, in the order Starlette tries them.

Starlette walks this list top to bottom and takes the first full match (path and method);
a path that matches with another method answers 405. No two entries here match the same
path and method, so the order changes no answer, only how many patterns a request tries
first. Where the order matters it is said beside the entry.

Before any route: the front door (``api.fastpath.front_door.CachedResponses``) answers
repeated public reads and remembered ``/resolve`` calls from memory, and hands everything
else (every error included) to this table.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from mcpreg.api import (
    admin,
    alerts,
    analysis,
    changes,
    config,
    curation,
    deployments,
    env_views,
    environments,
    gates,
    health,
    home,
    metrics,
    official,
    openapi,
    parity,
    probes,
    rate_limits,
    registry,
    resolve,
    testsets,
    traffic,
    upstreams,
)
from mcpreg.api.config import CONFIG
from mcpreg.api.deployments import ENV, TARGET
from mcpreg.api.registry import SERVER
from mcpreg.api.runtime import Runtime
from mcpreg.console.routes import routes as console_routes
from mcpreg.gateway.routes import routes as gateway_routes
from mcpreg.mcp import registry as mcp_registry
from mcpreg.services.deploy import rollouts
from mcpreg.services.deploy.approvals import approve, cancel

OFFICIAL_SERVER = official.SERVER  # /servers/{namespace}/{server}, under each API version


def _official(prefix: str) -> list[BaseRoute]:
    """The official MCP Registry API under ``prefix`` (``/v0.1`` and its alias ``/v0``); the
    handlers that can refuse answer with the official texts (``parity.official``)."""
    server = f"{prefix}{OFFICIAL_SERVER}"
    o = parity.official
    return [
        Route(f"{prefix}/servers", o(official.list_servers), methods=["GET"]),
        Route(f"{server}/versions", o(official.list_versions), methods=["GET"]),
        Route(f"{server}/versions/{{version}}", o(official.get_version), methods=["GET"]),
        Route(f"{server}/versions/{{version}}", o(official.edit_version), methods=["PUT"]),
        Route(f"{server}/versions/{{version}}", o(official.delete_version), methods=["DELETE"]),
        Route(f"{server}/versions/{{version}}/status", o(official.patch_status), methods=["PATCH"]),
        Route(f"{server}/status", o(official.patch_status_all), methods=["PATCH"]),
        Route(f"{prefix}/publish", o(official.publish), methods=["POST"]),
        Route(f"{prefix}/validate", official.validate, methods=["POST"]),
        Route(f"{prefix}/health", official.health, methods=["GET"]),
        Route(f"{prefix}/ping", official.ping, methods=["GET"]),
        Route(f"{prefix}/version", official.version, methods=["GET"]),
    ]


def _environment_views(version: str) -> list[BaseRoute]:
    """The official read API as one environment serves it (``api.env_views``)."""
    prefix = f"/environments/{{env}}/{version}"
    return [
        Route(f"{prefix}/servers", env_views.list_servers, methods=["GET"]),
        Route(f"{prefix}{OFFICIAL_SERVER}/versions", env_views.list_versions, methods=["GET"]),
        Route(f"{prefix}{OFFICIAL_SERVER}/versions/{{version}}", env_views.get_version, methods=["GET"]),
        Route(f"{prefix}/health", env_views.health, methods=["GET"]),
    ]


def routes(rt: Runtime) -> list[BaseRoute]:
    """The route table of the app whose runtime is ``rt``."""
    return [
        # First: what every client of a deployed server calls. Not for correctness (no other
        # pattern matches its path) but so it does not try some seventy patterns before its own.
        Route(resolve.PATH, resolve.resolve, methods=["GET"]),
        # The MCP gateway, second for the same reason: each environment's live endpoint of a
        # deployed server (``gateway``; no other pattern matches its path).
        *gateway_routes(),
        # The official MCP Registry API.
        *_official("/v0.1"),
        *_official("/v0"),
        # Releases, drafts and channels (``/api/servers/...``).
        Route(f"{SERVER}/drafts", registry.create_draft, methods=["POST"]),
        Route(f"{SERVER}/versions", registry.list_all_versions, methods=["GET"]),
        Route(f"{SERVER}/versions/{{version}}", registry.get_release, methods=["GET"]),
        Route(f"{SERVER}/versions/{{version}}", registry.edit_draft, methods=["PUT"]),
        Route(f"{SERVER}/versions/{{version}}/publish", registry.publish_draft, methods=["POST"]),
        Route(f"{SERVER}/versions/{{version}}/duplicate", registry.duplicate, methods=["POST"]),
        Route(f"{SERVER}/channels", registry.list_channels, methods=["GET"]),
        Route(f"{SERVER}/channels/{{channel}}", registry.get_channel, methods=["GET"]),
        Route(f"{SERVER}/channels/{{channel}}", registry.put_channel, methods=["PUT"]),
        Route(f"{SERVER}/channels/{{channel}}", registry.delete_channel, methods=["DELETE"]),
        Route(f"{SERVER}/resolve", registry.resolve, methods=["GET"]),
        Route(f"{SERVER}/diff", registry.diff, methods=["GET"]),
        # Test sets of the server (tool calls with expected results) and their runs.
        Route(f"{SERVER}/testsets", testsets.list_testsets, methods=["GET"]),
        Route(f"{SERVER}/testsets/{{testset}}", testsets.get_testset, methods=["GET"]),
        Route(f"{SERVER}/testsets/{{testset}}", testsets.put_testset, methods=["PUT"]),
        Route(f"{SERVER}/testsets/{{testset}}", testsets.delete_testset, methods=["DELETE"]),
        Route(f"{SERVER}/testsets/{{testset}}/runs", testsets.start_run, methods=["POST"]),
        Route(f"{SERVER}/testsets/{{testset}}/runs", testsets.list_runs, methods=["GET"]),
        Route(f"{SERVER}/testsets/{{testset}}/runs/{{id:int}}", testsets.get_run, methods=["GET"]),
        # The subregistry: declared upstreams, a sync now, and every run.
        Route(upstreams.UPSTREAMS, upstreams.list_upstreams, methods=["GET"]),
        Route(upstreams.UPSTREAMS, upstreams.create_upstream, methods=["POST"]),
        Route(upstreams.UPSTREAM, upstreams.get_upstream, methods=["GET"]),
        Route(upstreams.UPSTREAM, upstreams.change_upstream, methods=["PATCH"]),
        Route(upstreams.UPSTREAM, upstreams.remove_upstream, methods=["DELETE"]),
        Route(f"{upstreams.UPSTREAM}/sync", upstreams.sync_upstream, methods=["POST"]),
        Route(f"{upstreams.UPSTREAM}/runs", upstreams.list_runs, methods=["GET"]),
        # Curation of the mirrored catalogue: allow/deny rules, local namespaces, pins.
        Route(curation.CURATION, curation.show, methods=["GET"]),
        Route(curation.RULES, curation.set_rule, methods=["POST"]),
        Route(curation.RULES, curation.remove_rule, methods=["DELETE"]),
        Route(curation.LOCAL, curation.mark_local, methods=["PUT"]),
        Route(curation.LOCAL, curation.unmark_local, methods=["DELETE"]),
        Route(curation.PIN, curation.pin, methods=["PUT"]),
        Route(curation.PIN, curation.unpin, methods=["DELETE"]),
        # Tokens and the audit journal.
        Route("/api/audit", admin.audit, methods=["GET"]),
        Route("/api/tokens", admin.create_token, methods=["POST"]),
        Route("/api/tokens", admin.list_tokens, methods=["GET"]),
        Route("/api/tokens/{name}", admin.revoke_token, methods=["DELETE"]),
        Route("/api/whoami", admin.whoami, methods=["GET"]),
        # The change feed (long poll) and the readiness probe.
        Route("/api/changes", changes.changes, methods=["GET"]),
        # The OpenAPI 3.1 document of /api (``api.openapi``), rendered once per process.
        Route(openapi.PATH, openapi.openapi_json, methods=["GET"]),
        Route("/readyz", probes.readyz, methods=["GET"]),
        # The front page and the README.
        Route("/", home.home, methods=["GET", "HEAD"]),
        Route("/readme", home.readme, methods=["GET", "HEAD"]),
        # Configuration: variables, secrets, and a target's effective configuration.
        Route(f"{SERVER}/variables", config.list_variables, methods=["GET"]),
        Route(f"{SERVER}/variables/{{var}}", config.get_variable, methods=["GET"]),
        Route(f"{SERVER}/variables/{{var}}", config.put_variable, methods=["PUT"]),
        Route(f"{SERVER}/variables/{{var}}", config.delete_variable, methods=["DELETE"]),
        Route(f"{SERVER}/secrets", config.list_secrets, methods=["GET"]),
        Route(f"{SERVER}/secrets/{{secret}}", config.get_secret, methods=["GET"]),
        Route(f"{SERVER}/secrets/{{secret}}", config.put_secret, methods=["PUT"]),
        Route(f"{SERVER}/secrets/{{secret}}", config.delete_secret, methods=["DELETE"]),
        Route(CONFIG, config.effective_config, methods=["GET"]),
        # Environments.
        Route("/api/environments", environments.list_environments, methods=["GET"]),
        Route("/api/environments", environments.create_environment, methods=["POST"]),
        Route(ENV, environments.get_environment, methods=["GET"]),
        Route(ENV, environments.update_environment, methods=["PATCH"]),
        Route(f"{ENV}/servers", environments.deployed_servers, methods=["GET"]),
        Route(f"{ENV}/history", environments.environment_history, methods=["GET"]),
        # Deployments, rollouts, rollback, promotion, and where a server runs.
        Route(f"{ENV}/deployments", deployments.deploy, methods=["POST"]),
        Route(f"{ENV}/deployments", deployments.list_deployments, methods=["GET"]),
        Route(f"{ENV}/deployments/{{id:int}}", deployments.get_deployment, methods=["GET"]),
        Route(
            f"{ENV}/deployments/{{id:int}}/approve",
            deployments.decision(approve),
            methods=["POST"],
        ),
        Route(
            f"{ENV}/deployments/{{id:int}}/cancel",
            deployments.decision(cancel),
            methods=["POST"],
        ),
        Route(f"{TARGET}/rollout", deployments.get_rollout, methods=["GET"]),
        *(
            Route(f"{TARGET}/rollout/{action}", deployments.rollout_action(action), methods=["POST"])
            for action in rollouts.TRANSITIONS
        ),
        Route(f"{TARGET}/rollback", deployments.rollback, methods=["POST"]),
        Route(f"{TARGET}/history", deployments.server_history, methods=["GET"]),
        Route(f"{SERVER}/versions/{{version}}/promote", deployments.promote, methods=["POST"]),
        Route(f"{SERVER}/deployments", deployments.where, methods=["GET"]),
        # The gateway's traffic per version (every replica's aggregates) and this replica's
        # Prometheus metrics (gateway, HTTP, cache, rollouts).
        Route(f"{TARGET}/traffic", traffic.server_traffic, methods=["GET"]),
        # The prober's health of what runs of one server in one environment.
        Route(f"{TARGET}/health", health.target_health, methods=["GET"]),
        # The canary analysis of the target's rollout: verdicts per interval and the decision.
        Route(f"{TARGET}/analysis", analysis.rollout_analysis, methods=["GET"]),
        # Promotion gates: an environment's gates, and a target's gate runs and waits.
        Route(f"{ENV}/gates", gates.list_gates, methods=["GET"]),
        Route(f"{ENV}/gates/{{name}}", gates.get_gate, methods=["GET"]),
        Route(f"{ENV}/gates/{{name}}", gates.put_gate, methods=["PUT"]),
        Route(f"{ENV}/gates/{{name}}", gates.delete_gate, methods=["DELETE"]),
        Route(f"{TARGET}/gates", gates.target_gates, methods=["GET"]),
        # Alerts: an environment's rules, and their firings with each delivery.
        Route(f"{ENV}/alerts", alerts.list_rules, methods=["GET"]),
        Route(f"{ENV}/alerts/{{name}}", alerts.get_rule, methods=["GET"]),
        Route(f"{ENV}/alerts/{{name}}", alerts.put_rule, methods=["PUT"]),
        Route(f"{ENV}/alerts/{{name}}", alerts.delete_rule, methods=["DELETE"]),
        Route(f"{ENV}/alert-firings", alerts.list_firings, methods=["GET"]),
        # The gateway's rate limits: an environment's default and one server's override.
        Route(f"{ENV}/rate-limits", rate_limits.list_limits, methods=["GET"]),
        Route(f"{ENV}/rate-limit", rate_limits.get_limit, methods=["GET"]),
        Route(f"{ENV}/rate-limit", rate_limits.put_limit, methods=["PUT"]),
        Route(f"{ENV}/rate-limit", rate_limits.delete_limit, methods=["DELETE"]),
        Route(f"{TARGET}/rate-limit", rate_limits.get_limit, methods=["GET"]),
        Route(f"{TARGET}/rate-limit", rate_limits.put_limit, methods=["PUT"]),
        Route(f"{TARGET}/rate-limit", rate_limits.delete_limit, methods=["DELETE"]),
        Route("/metrics", metrics.metrics, methods=["GET"]),
        # The official read API per environment.
        *_environment_views("v0.1"),
        *_environment_views("v0"),
        # The registry's MCP tools (streamable HTTP at ``/mcp``); its session manager runs in
        # the app's lifespan.
        *mcp_registry.routes(rt.mcp_server),
        # The web console (server-rendered pages and their static files) under ``/console``.
        *console_routes(),
    ]
