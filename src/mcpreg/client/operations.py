"""Every public method of ``Registry`` and ``AsyncRegistry``, written once.

A method here only says which ``Call`` it sends (``calls.py`` says what that call is);
the client it is read from sends it: ``Registry`` blocks, ``AsyncRegistry`` returns a
coroutine. One signature, one default and one docstring serve both clients, so they
cannot drift apart. Type checkers see the right one: ``Operation.__get__`` is overloaded
on the client, so ``Registry().versions(n)`` is a ``list[Release]`` and
``AsyncRegistry().versions(n)`` an awaitable of one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from mcpreg.client import alerts as alert_calls
from mcpreg.client import calls
from mcpreg.client import gates as gate_calls
from mcpreg.client import testsets as testset_calls
from mcpreg.client.base import RegistryBase, TransportT
from mcpreg.client.calls import Call, Pages
from mcpreg.client.models import Release

if TYPE_CHECKING:
    from mcpreg.client.aio import AsyncRegistry
    from mcpreg.client.sync import Registry

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class _Described(Generic[P, T]):
    """What a method is: its name, docstring and parameters, taken from the function describing it."""

    def __init__(self, describe: Callable[Concatenate[Any, P], Any]) -> None:
        self.describe = describe
        self.__name__ = describe.__name__
        self.__qualname__ = describe.__qualname__
        self.__doc__ = describe.__doc__

    @functools.cached_property
    def signature(self) -> inspect.Signature:
        """The parameters after ``self``; no return annotation (it depends on the client)."""
        signature = inspect.signature(self.describe)
        return signature.replace(
            parameters=list(signature.parameters.values())[1:], return_annotation=inspect.Signature.empty
        )

    def present(self, method: F) -> F:
        """``method`` (the client's wrapper) under this method's name, docstring and signature."""
        functools.update_wrapper(method, self.describe)
        method.__dict__["__signature__"] = self.signature
        return method


class Operation(_Described[P, T]):
    """A method that sends one call: it blocks on ``Registry`` and is awaited on ``AsyncRegistry``."""

    describe: Callable[Concatenate[Any, P], Call[T]]

    @overload
    def __get__(self, registry: None, owner: type[Any]) -> Operation[P, T]: ...
    @overload
    def __get__(self, registry: Registry, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(self, registry: AsyncRegistry, owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, registry: Any, owner: type[Any]) -> Any:
        return self if registry is None else registry._method(self)


class Listing(_Described[P, T]):
    """A method that follows a cursor over pages: an iterator on ``Registry``, an async one on
    ``AsyncRegistry``."""

    describe: Callable[Concatenate[Any, P], Pages[T]]

    @overload
    def __get__(self, registry: None, owner: type[Any]) -> Listing[P, T]: ...
    @overload
    def __get__(self, registry: Registry, owner: type[Any]) -> Callable[P, Iterator[T]]: ...
    @overload
    def __get__(self, registry: AsyncRegistry, owner: type[Any]) -> Callable[P, AsyncIterator[T]]: ...
    def __get__(self, registry: Any, owner: type[Any]) -> Any:
        return self if registry is None else registry._listing(self)


def operation(describe: Callable[Concatenate[Any, P], Call[T]]) -> Operation[P, T]:
    return Operation(describe)


def listing(describe: Callable[Concatenate[Any, P], Pages[T]]) -> Listing[P, T]:
    return Listing(describe)


class Operations(RegistryBase[TransportT]):
    """The registry's API as methods; ``Registry`` and ``AsyncRegistry`` say how a call is sent."""

    # -- discovery -------------------------------------------------------------------------------

    @operation
    def get_server(
        self,
        name: str,
        version: str | None = None,
        channel: str | None = None,
        range: str | None = None,
        environment: str | None = None,
        client_id: str | None = None,
        *,
        prerelease: bool = False,
    ) -> Call[Release]:
        """One release: ``latest`` by default, or an exact version, a channel or a range.

        With ``environment``, what is deployed there: the release ``client_id`` is routed
        to (stable or canary), or the stable one without it. Raises ``NoDeployment`` when
        nothing of ``name`` is deployed in that environment.
        """
        return self._server_call(name, version, channel, range, environment, client_id, prerelease)

    @listing
    def list_servers(
        self,
        *,
        search: str | None = None,
        updated_since: str | None = None,
        version: str | None = None,
        include_deleted: bool = False,
        page_size: int = 100,
    ) -> Pages[Release]:
        """Every matching release, following the cursor over every page."""
        return calls.server_pages(page_size, search, updated_since, version, include_deleted)

    @operation
    def versions(self, name: str) -> Call[list[Release]]:
        """Every version newest first; with a token, drafts and deleted releases too."""
        return calls.versions(name, everything=bool(self.token))

    @operation
    def channels(self, name: str) -> Call[list[dict[str, Any]]]:
        return calls.channels(name)

    @operation
    def diff(self, name: str, old: str, new: str) -> Call[dict[str, Any]]:
        """``{"from", "to", "changes": [{op, path, old, new}]}`` between two versions or channels."""
        return calls.diff(name, old, new)

    @operation
    def whoami(self) -> Call[dict[str, Any]]:
        return calls.whoami()

    # -- publishing ------------------------------------------------------------------------------

    @operation
    def publish(self, document: dict[str, Any], *, draft: bool = False) -> Call[Release]:
        """Publish a server.json, or store it as an editable, invisible draft."""
        return calls.create_draft(document) if draft else calls.publish(document)

    @operation
    def update_draft(self, name: str, version: str, document: dict[str, Any]) -> Call[Release]:
        return calls.update_draft(name, version, document)

    @operation
    def publish_draft(self, name: str, version: str) -> Call[Release]:
        return calls.publish_draft(name, version)

    @operation
    def duplicate(self, name: str, version: str, new_version: str) -> Call[Release]:
        """Copy a release into a new draft numbered ``new_version``."""
        return calls.duplicate(name, version, new_version)

    @operation
    def set_status(
        self, name: str, version: str, status: str, message: str | None = None, *, force: bool = False
    ) -> Call[Release]:
        """``active``, ``deprecated`` or ``deleted``, with an optional message.

        Deleting a release that runs in some environment is refused (``Conflict``,
        ``release_in_use``) unless ``force``.
        """
        return calls.set_status(name, version, status, message, force=force)

    @operation
    def set_channel(self, name: str, channel: str, version: str) -> Call[dict[str, Any]]:
        return calls.set_channel(name, channel, version)

    @operation
    def delete_channel(self, name: str, channel: str) -> Call[None]:
        return calls.delete_channel(name, channel)

    # -- subregistry upstreams and their syncs (admin) -------------------------------------------

    @operation
    def upstreams(self) -> Call[list[dict[str, Any]]]:
        """Every declared upstream (its token shows only as set or not)."""
        return calls.upstreams()

    @operation
    def upstream(self, name: str) -> Call[dict[str, Any]]:
        """One upstream and its last sync run."""
        return calls.upstream(name)

    @operation
    def add_upstream(
        self,
        name: str,
        url: str,
        *,
        namespaces: list[str] | None = None,
        exclude: list[str] | None = None,
        interval: str | None = None,
        token: str | None = None,
    ) -> Call[dict[str, Any]]:
        """Declare an upstream registry that speaks the official ``/v0.1`` read API."""
        given = {"namespaces": namespaces, "exclude": exclude, "interval": interval, "token": token}
        body = {"name": name, "url": url, **{k: v for k, v in given.items() if v is not None}}
        return calls.add_upstream(body)

    @operation
    def change_upstream(self, name: str, changes: dict[str, Any]) -> Call[dict[str, Any]]:
        """Change an upstream's url, namespaces, exclude, interval or token ("" removes it)."""
        return calls.change_upstream(name, changes)

    @operation
    def remove_upstream(self, name: str) -> Call[None]:
        """Forget an upstream; the releases it brought stay, as local ones."""
        return calls.remove_upstream(name)

    @operation
    def sync_upstream(self, name: str, *, full: bool = False) -> Call[dict[str, Any]]:
        """Sync now (incremental unless ``full``) and answer the run when it ends."""
        return calls.sync_upstream(name, full)

    @operation
    def sync_runs(self, name: str, *, limit: int = 20, refused: bool = False) -> Call[list[dict[str, Any]]]:
        """The upstream's sync runs, newest first (with the entries each refused)."""
        return calls.sync_runs(name, limit, refused)

    # -- curation of mirrored servers (admin) ----------------------------------------------------

    @operation
    def curation(self) -> Call[dict[str, Any]]:
        """Allow/deny rules, local namespaces, pins, local statuses, and what each upstream owns."""
        return calls.curation()

    @operation
    def curate(
        self, pattern: str, effect: str, *, upstream: str | None = None, force: bool = False
    ) -> Call[dict[str, Any]]:
        """Allow or deny server names matching ``pattern`` (for one upstream, or every one);
        answers the mirrored servers it ``withheld`` and ``restored`` at once."""
        return calls.set_rule(pattern, effect, upstream, force)

    @operation
    def forget_rule(
        self, pattern: str, *, upstream: str | None = None, force: bool = False
    ) -> Call[dict[str, Any]]:
        return calls.remove_rule(pattern, upstream, force)

    @operation
    def set_local(self, namespace: str, local: bool = True) -> Call[dict[str, Any]]:
        """Mark ``namespace`` local (publishable here, never synced into), or no longer."""
        return calls.set_local(namespace, local)

    @operation
    def pin(self, name: str, version: str) -> Call[dict[str, Any]]:
        """Hold ``latest`` of ``name`` on ``version`` across syncs."""
        return calls.pin(name, version)

    @operation
    def unpin(self, name: str) -> Call[dict[str, Any]]:
        return calls.unpin(name)

    # -- variables, secrets, configuration -------------------------------------------------------

    @operation
    def variables(
        self, name: str, *, version: str | None = None, environment: str | None = None
    ) -> Call[list[dict[str, Any]]]:
        """Variables of every scope, or of the one release or environment given."""
        return calls.variables(name, version, environment)

    @operation
    def set_variable(
        self,
        name: str,
        variable: str,
        value: str,
        *,
        version: str | None = None,
        environment: str | None = None,
    ) -> Call[dict[str, Any]]:
        return calls.set_variable(name, variable, value, version, environment)

    @operation
    def delete_variable(
        self, name: str, variable: str, *, version: str | None = None, environment: str | None = None
    ) -> Call[None]:
        return calls.delete_variable(name, variable, version, environment)

    @operation
    def secrets(
        self, name: str, *, version: str | None = None, environment: str | None = None
    ) -> Call[list[dict[str, Any]]]:
        """Secrets' metadata (name, scope, key id, who, when, revision), never their values."""
        return calls.secrets(name, version, environment)

    @operation
    def set_secret(
        self,
        name: str,
        secret: str,
        value: str,
        *,
        version: str | None = None,
        environment: str | None = None,
    ) -> Call[dict[str, Any]]:
        return calls.set_secret(name, secret, value, version, environment)

    @operation
    def delete_secret(
        self, name: str, secret: str, *, version: str | None = None, environment: str | None = None
    ) -> Call[None]:
        return calls.delete_secret(name, secret, version, environment)

    @operation
    def config(
        self,
        name: str,
        environment: str,
        *,
        version: str | None = None,
        reveal: bool = False,
        reason: str | None = None,
    ) -> Call[dict[str, Any]]:
        """The effective configuration in ``environment``; secrets in plaintext only with
        ``reveal`` and a ``secrets:read`` token (each reveal is journaled with ``reason``)."""
        return calls.config(name, environment, version, reveal, reason)

    # -- environments and deployments ------------------------------------------------------------

    @operation
    def environments(self) -> Call[list[dict[str, Any]]]:
        """Every environment in promotion order, with its flags."""
        return calls.environments()

    @operation
    def create_environment(self, /, name: str, **fields: Any) -> Call[dict[str, Any]]:
        """Fields: ``position``, ``protected``, ``requiresApproval``, ``allowPrereleases``,
        ``description``."""
        return calls.create_environment(name, fields)

    @operation
    def update_environment(self, /, name: str, **fields: Any) -> Call[dict[str, Any]]:
        return calls.update_environment(name, fields)

    @operation
    def deploy(
        self,
        name: str,
        version: str,
        environment: str,
        *,
        strategy: str = "immediate",
        weight: float | None = None,
        steps: list[dict[str, Any]] | None = None,
        scheduled_at: str | None = None,
        notes: str | None = None,
        analysis: dict[str, Any] | None = None,
        gates: list[dict[str, Any]] | None = None,
    ) -> Call[dict[str, Any]]:
        """Deploy a release: ``immediate``, ``canary`` with a ``weight``, or ``staged`` with ``steps``
        (``analysis``: the canary analysis its rollout follows, instead of the environment's;
        ``gates``: promotion gates of this deployment, on top of the environment's)."""
        plan = calls.deploy_request(strategy, weight, steps, scheduled_at, notes, analysis, gates)
        return calls.deploy(environment, name, version, plan)

    @operation
    def deployments(self, /, environment: str, **params: str) -> Call[list[dict[str, Any]]]:
        return calls.deployments(environment, params)

    @operation
    def approve(self, environment: str, deployment_id: int) -> Call[dict[str, Any]]:
        return calls.approve(environment, deployment_id)

    @operation
    def promote(
        self,
        name: str,
        version: str,
        source: str,
        target: str | None = None,
        *,
        force: bool = False,
        strategy: str = "immediate",
        weight: float | None = None,
        steps: list[dict[str, Any]] | None = None,
        notes: str | None = None,
    ) -> Call[dict[str, Any]]:
        """Deploy to ``target`` (default: the next environment) the ``version`` running in ``source``."""
        plan = calls.deploy_request(strategy, weight, steps, None, notes)
        return calls.promote(name, version, source, target, force, plan)

    @operation
    def rollout(self, name: str, environment: str) -> Call[dict[str, Any]]:
        """Stable and canary versions, weight, step, and when the next step is due."""
        return calls.rollout(environment, name)

    @operation
    def rollout_promote(self, name: str, environment: str, *, full: bool = False) -> Call[dict[str, Any]]:
        return calls.rollout_action(environment, name, "promote", {"full": True} if full else None)

    @operation
    def rollout_pause(self, name: str, environment: str) -> Call[dict[str, Any]]:
        return calls.rollout_action(environment, name, "pause")

    @operation
    def rollout_resume(self, name: str, environment: str) -> Call[dict[str, Any]]:
        return calls.rollout_action(environment, name, "resume")

    @operation
    def rollout_abort(self, name: str, environment: str) -> Call[dict[str, Any]]:
        return calls.rollout_action(environment, name, "abort")

    @operation
    def rollback(
        self, name: str, environment: str, *, version: str | None = None, notes: str | None = None
    ) -> Call[dict[str, Any]]:
        """Back to the last known good version (or ``version``) at once."""
        return calls.rollback(environment, name, version, notes)

    @operation
    def resolve(self, name: str, environment: str, client_id: str | None = None) -> Call[dict[str, Any]]:
        """Which release ``client_id`` gets (``track``: stable or canary) and its configuration."""
        return calls.resolve(environment, name, client_id)

    @operation
    def history(self, name: str, environment: str) -> Call[dict[str, Any]]:
        return calls.history(environment, name)

    @operation
    def traffic(self, name: str, environment: str, window: str | None = None) -> Call[dict[str, Any]]:
        """The gateway's traffic of ``name`` in ``environment`` per version over ``window``
        (``5m`` by default), summed over every replica: rates, p50/p95/p99, outcomes."""
        return calls.traffic(environment, name, window)

    @operation
    def rate_limits(self, environment: str) -> Call[list[dict[str, Any]]]:
        """The environment's default gateway rate limit first, then each per-server one."""
        return calls.rate_limits(environment)

    @operation
    def rate_limit(self, environment: str, name: str | None = None) -> Call[dict[str, Any]]:
        """The rate limit of ``name`` in ``environment`` (None: the environment's default)."""
        return calls.rate_limit(environment, name)

    @operation
    def set_rate_limit(
        self, /, environment: str, name: str | None = None, **limits: float | int | None
    ) -> Call[dict[str, Any]]:
        """Set ``rate``/``burst`` and/or ``clientRate``/``clientBurst`` for ``name`` (or the default)."""
        return calls.set_rate_limit(environment, name, {k: v for k, v in limits.items() if v is not None})

    @operation
    def delete_rate_limit(self, environment: str, name: str | None = None) -> Call[None]:
        return calls.delete_rate_limit(environment, name)

    @operation
    def health(self, name: str, environment: str) -> Call[dict[str, Any]]:
        """The prober's state (healthy, degraded, unhealthy) of the stable and canary of ``name``."""
        return calls.health(environment, name)

    @operation
    def analysis(self, name: str, environment: str) -> Call[dict[str, Any]]:
        """The canary analysis of ``name``'s rollout in ``environment`` (verdicts newest first)."""
        return calls.analysis(environment, name)

    @operation
    def where(self, name: str) -> Call[dict[str, Any]]:
        """What runs of ``name`` in every environment."""
        return calls.where(name)

    # -- promotion gates -------------------------------------------------------------------------

    @operation
    def gates(self, environment: str) -> Call[list[dict[str, Any]]]:
        """The promotion gates of ``environment`` (never their secrets)."""
        return gate_calls.gates(environment)

    @operation
    def gate(self, environment: str, name: str) -> Call[dict[str, Any]]:
        return gate_calls.gate(environment, name)

    @operation
    def set_gate(self, environment: str, name: str, gate: dict[str, Any]) -> Call[dict[str, Any]]:
        """Declare or replace the gate ``name``: ``{kind, points?, url?, secret?, timeoutSeconds?,
        testset?, retry?}`` (a webhook replaced without ``secret`` keeps the old one)."""
        return gate_calls.set_gate(environment, name, gate)

    @operation
    def delete_gate(self, environment: str, name: str) -> Call[None]:
        return gate_calls.delete_gate(environment, name)

    @operation
    def gate_runs(self, name: str, environment: str) -> Call[dict[str, Any]]:
        """The gate runs of ``name`` in ``environment`` (newest first) and what it waits on."""
        return gate_calls.gate_runs(environment, name)

    # -- test sets -------------------------------------------------------------------------------

    @operation
    def testsets(self, name: str) -> Call[list[dict[str, Any]]]:
        """Every test set of ``name`` (name, revision, description, number of cases)."""
        return testset_calls.testsets(name)

    @operation
    def testset(self, name: str, testset: str) -> Call[dict[str, Any]]:
        """One test set of ``name`` with its cases."""
        return testset_calls.testset(name, testset)

    @operation
    def put_testset(self, name: str, testset: str, document: dict[str, Any]) -> Call[dict[str, Any]]:
        """Store the test set ``testset`` of ``name``: ``{description?, timeoutSeconds?, cases}``."""
        return testset_calls.put_testset(name, testset, document)

    @operation
    def delete_testset(self, name: str, testset: str) -> Call[None]:
        return testset_calls.delete_testset(name, testset)

    @operation
    def run_testset(
        self, name: str, testset: str, environment: str, *, version: str | None = None
    ) -> Call[dict[str, Any]]:
        """Run ``testset`` on ``version`` (default: the canary, else stable) in ``environment``;
        the stored run, with each case's result."""
        return testset_calls.run_testset(name, testset, environment, version)

    @operation
    def testset_runs(self, name: str, testset: str, *, limit: int = 20) -> Call[list[dict[str, Any]]]:
        """The runs of ``testset``, newest first, without their cases."""
        return testset_calls.testset_runs(name, testset, limit)

    @operation
    def testset_run(self, name: str, testset: str, run_id: int) -> Call[dict[str, Any]]:
        return testset_calls.testset_run(name, testset, run_id)

    # -- alerts ----------------------------------------------------------------------------------

    @operation
    def alert_rules(self, environment: str) -> Call[list[dict[str, Any]]]:
        """The alert rules of ``environment`` (never their secrets)."""
        return alert_calls.alert_rules(environment)

    @operation
    def alert_rule(self, environment: str, name: str) -> Call[dict[str, Any]]:
        return alert_calls.alert_rule(environment, name)

    @operation
    def set_alert_rule(self, environment: str, name: str, rule: dict[str, Any]) -> Call[dict[str, Any]]:
        """Create or replace the rule ``name``: ``{kind, url, secret?, server?, threshold?, window?,
        minRequests?, state?, timeoutSeconds?}`` (a replace without ``secret`` keeps the old one)."""
        return alert_calls.set_alert_rule(environment, name, rule)

    @operation
    def delete_alert_rule(self, environment: str, name: str) -> Call[None]:
        return alert_calls.delete_alert_rule(environment, name)

    @operation
    def alert_firings(
        self, environment: str, *, rule: str | None = None, limit: int = 50
    ) -> Call[list[dict[str, Any]]]:
        """The firings of ``environment``'s alerts, newest first, with each delivery attempt."""
        return alert_calls.alert_firings(environment, rule, limit)
