"""``nbswarm serve``: the Swarms-style SSE API on Starlette + uvicorn, safe to leave running.

Endpoints (``create_app`` returns the ASGI app; ``serve`` runs it with uvicorn;
``serve_in_thread`` runs it in a background thread, e.g. from a notebook)::

    GET  /health                  {"status": "ok", ...}; never needs a key
    GET  /v1/swarms/available     swarm types, and which stream per token (all three do)
    POST /v1/agent/completions    {"agent_config": {...}, "task": ...}; streams if agent_config.streaming_on:
                                  metadata, chunk{content}, usage (one: the total), [error], done
    POST /v1/swarm/completions    a swarm spec; streams when "stream": true:
                                  metadata, start, agent_start, chunk{agent, content}, agent_end,
                                  usage{billing_info}, [error], end
    POST /v1/chat/completions     OpenAI-compatible, backed by the sim model (see ``_openai``)

Every request runs real nbswarm agents and workflows on the server's own event
loop. Models are simulated by default (a payload's ``"model_name":
"gpt-4o-mini"`` streams from the sim at that model's price and speed); the
operator opts into real models with ``NBSWARM_SERVE_REAL_MODELS=1`` or
``create_app(simulate=False)``.

What bounds it, layer by layer (each limit is a ``serve`` flag; README, "Serving"):
the connection (``_http``: header read timeout, connection cap, Host/Origin/
Content-Type checks, body size and time), the request (``_payload.Limits``: a
work budget checked before anything runs, 422 naming the limit), the server
(``Settings.max_runs``: 429 with ``Retry-After``), the stream (``_stream``: a
bounded per-client buffer and write timeout, cancellation on disconnect) and
what is kept afterwards (``Settings.retain_bytes``). Remote clients never read
an error's text, only its type and a log reference (``_frames``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
import warnings
from dataclasses import fields
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from ..errors import InvalidArgument
from ..models.sim import SimProfile, SimProvider
from ._handlers import agent, available, chat, endpoint, health, swarm
from ._http import Guard, is_loopback, protocol, quiet_accept_errors
from ._payload import Limits, ProviderFor
from ._state import ServerState, Settings

__all__ = [
    "API_KEY_ENV",
    "REAL_MODELS_ENV",
    "BackgroundServer",
    "ServerState",
    "Settings",
    "create_app",
    "serve",
    "serve_in_thread",
]

API_KEY_ENV = "NBSWARM_API_KEY"
REAL_MODELS_ENV = "NBSWARM_SERVE_REAL_MODELS"
ALLOWED_HOSTS_ENV = "NBSWARM_ALLOWED_HOSTS"
HEADER_TIMEOUT = 10.0
"""Seconds a connection has to send its request headers."""
KEEP_ALIVE_TIMEOUT = 5.0
"""Seconds an idle keep-alive connection stays open (uvicorn's ``timeout_keep_alive``)."""
MAX_HEADER_BYTES = 16_384
"""Largest request head (uvicorn's ``h11_max_incomplete_event_size``)."""


def _sim_router(profile: SimProfile | None) -> ProviderFor:
    def provider_for(model_name: str) -> SimProvider:
        return SimProvider(profile) if profile is not None else SimProvider()

    return provider_for


def _allowed_hosts(value: Any) -> tuple[str, ...] | None:
    """``allowed_hosts`` as given, else env NBSWARM_ALLOWED_HOSTS (commas; ``*``: any), else loopback."""
    if value is None:
        env = os.environ.get(ALLOWED_HOSTS_ENV, "").strip()
        if not env:
            return Settings().allowed_hosts
        value = [part.strip() for part in env.split(",") if part.strip()]
    if isinstance(value, str):
        value = [value]
    hosts = tuple(value)
    if not all(isinstance(h, str) and h for h in hosts):
        raise InvalidArgument(f"allowed_hosts must be host names, got {value!r}")
    return None if "*" in hosts else hosts


def create_app(
    api_key: str | None = None,
    max_agents: int | None = None,
    max_tokens: int | None = None,
    *,
    simulate: bool | None = None,
    sim_profile: SimProfile | None = None,
    provider_for: ProviderFor | None = None,
    limits: Limits | None = None,
    **settings: Any,
) -> Starlette:
    """The ASGI app (for any ASGI server: ``uvicorn --factory nbswarm.sse.server:create_app``).

    ``api_key`` None reads env NBSWARM_API_KEY; empty means no auth. ``simulate`` None means
    simulated unless env NBSWARM_SERVE_REAL_MODELS=1. ``sim_profile`` sets the sim's timing and
    length; ``provider_for(model_name)`` overrides how agents get their model (tests, custom routing).
    ``limits`` bounds one request's work (``max_agents``/``max_tokens`` override its fields);
    ``settings`` are ``Settings`` fields (``max_runs``, ``client_buffer``, ``ping``, ``allowed_hosts``,
    ``cors_origins``...). ``allowed_hosts`` None reads env NBSWARM_ALLOWED_HOSTS, else loopback names.
    """
    key = os.environ.get(API_KEY_ENV) if api_key is None else api_key
    if key is not None and not isinstance(key, str):
        raise InvalidArgument(f"api_key must be a string or None, got {type(key).__name__}")
    if limits is not None and not isinstance(limits, Limits):
        raise InvalidArgument(f"limits must be a Limits, got {type(limits).__name__}")
    base = limits or Limits()
    overrides = {"max_agents": max_agents, "max_tokens": max_tokens}
    limits = Limits(**{**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InvalidArgument(f"unknown server settings {unknown}; the settings are {sorted(known)}")
    settings["allowed_hosts"] = _allowed_hosts(settings.get("allowed_hosts"))
    if isinstance(settings.get("cors_origins"), str):
        settings["cors_origins"] = (settings["cors_origins"],)
    settings["cors_origins"] = tuple(settings.get("cors_origins", ()))
    config = Settings(**settings)
    if simulate is None:
        simulate = os.environ.get(REAL_MODELS_ENV, "").strip().lower() not in ("1", "true", "yes", "on")
    if sim_profile is not None and not isinstance(sim_profile, SimProfile):
        raise InvalidArgument(f"sim_profile must be a SimProfile, got {type(sim_profile).__name__}")
    if provider_for is not None and not callable(provider_for):
        raise InvalidArgument("provider_for must be callable(model_name) -> Provider | None")
    router = provider_for or (_sim_router(sim_profile) if simulate else (lambda model_name: None))
    state = ServerState(
        limits, key or None, router, simulated=bool(simulate) and provider_for is None, settings=config
    )
    state.sim_profile = sim_profile
    middleware = [Middleware(Guard, allowed_hosts=config.allowed_hosts, cors_origins=config.cors_origins)]
    if config.cors_origins:  # outermost: answers allowed origins' preflights, adds their CORS headers
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "x-api-key", "authorization"],
            ),
        )
    app = Starlette(
        routes=[
            Route("/health", endpoint(health, public=True), methods=["GET"]),
            Route("/v1/swarms/available", endpoint(available), methods=["GET"]),
            Route("/v1/agent/completions", endpoint(agent, runs=True), methods=["POST"]),
            Route("/v1/swarm/completions", endpoint(swarm, runs=True), methods=["POST"]),
            Route("/v1/chat/completions", endpoint(chat, runs=True), methods=["POST"]),
        ],
        middleware=middleware,
    )
    app.state.nbswarm = state
    return app


def exposure_warning(host: str, api_key: str | None) -> str | None:
    """The warning for serving beyond this machine with no key (None when loopback or keyed)."""
    if api_key or is_loopback(host):
        return None
    return (
        f"listening on {host or 'every interface'}, beyond this machine, with no API key: anyone who can "
        "reach it can run agents (and spend your provider budget with --real-models); set --api-key"
    )


def _default_hosts(host: str, settings: dict[str, Any]) -> None:
    """Unless told otherwise, answer to the loopback names and the bound address (any, on a wildcard)."""
    if settings.get("allowed_hosts") is None and not os.environ.get(ALLOWED_HOSTS_ENV):
        wildcard = host in ("0.0.0.0", "::", "")
        settings["allowed_hosts"] = ("*",) if wildcard else (*Settings().allowed_hosts, host)


def _default_connections() -> int:
    """Most connections at once: 1000, or fewer when the process may open fewer files."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return 1000
    if soft == getattr(resource, "RLIM_INFINITY", -1) or soft <= 0:
        return 1000
    return max(8, min(1000, soft // 2))  # the rest: the process's own files and accept bursts


def uvicorn_config(
    app: Starlette,
    *,
    max_connections: int | None = None,
    header_timeout: float = HEADER_TIMEOUT,
    **options: Any,
) -> Any:
    """uvicorn's Config for ``app`` with nbswarm's HTTP-layer limits (see ``_http``)."""
    import uvicorn

    connections = max_connections or _default_connections()
    return uvicorn.Config(
        app,
        http=protocol(header_timeout, connections),
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=connections + 1,  # uvicorn counts the asking connection; ours refuses past the cap
        **options,
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    max_agents: int | None = None,
    max_tokens: int | None = None,
    *,
    simulate: bool | None = None,
    max_connections: int | None = None,
    limits: Limits | None = None,
    **settings: Any,
) -> int:
    """Run the API with uvicorn until interrupted (``nbswarm serve``); returns the exit status."""

    try:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidArgument(f"port must be an integer from 0 to 65535, got {port!r}")
        if max_connections is not None and (not isinstance(max_connections, int) or max_connections < 1):
            raise InvalidArgument(f"max_connections must be a positive integer, got {max_connections!r}")
        _default_hosts(host, settings)
        app = create_app(api_key, max_agents, max_tokens, simulate=simulate, limits=limits, **settings)
    except InvalidArgument as exc:
        print(f"nbswarm serve: {exc}", file=sys.stderr)
        return 2
    state: ServerState = app.state.nbswarm
    models = "simulated (sim), no provider key needed" if state.simulated else "real, via litellm"
    auth = "x-api-key required" if state.api_key else "no auth (set --api-key or NBSWARM_API_KEY)"
    print(f"nbswarm serve: models {models}; {auth}", file=sys.stderr, flush=True)
    exposure = exposure_warning(host, state.api_key)
    if exposure:
        print(f"nbswarm serve: WARNING: {exposure}", file=sys.stderr, flush=True)
    config = uvicorn_config(
        app,
        max_connections=max_connections,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
    _Server(config).run()
    return 0


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):  # type: ignore[misc]
        """uvicorn's server with accept errors condensed (see ``_http.quiet_accept_errors``)."""

        async def startup(self, sockets: Any = None) -> None:
            quiet_accept_errors(asyncio.get_running_loop())
            await super().startup(sockets)

    return Server


def _Server(config: Any) -> Any:  # noqa: N802 (a class made on first use: uvicorn is imported lazily)
    return _server_class()(config)


class BackgroundServer:
    """The API served by uvicorn in a daemon thread of this process: ``.url``, ``.stop()``, a context manager.

    Uvicorn runs its own event loop in that thread, so this works inside a notebook (whose main
    thread already runs one) and the server's runs never touch the kernel's loop.
    """

    def __init__(self, app: Starlette, host: str, port: int, max_connections: int | None = None) -> None:

        self.app = app
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = host, self._socket.getsockname()[1]
        config = uvicorn_config(
            app,
            max_connections=max_connections,
            log_level="warning",
            timeout_graceful_shutdown=2,
            lifespan="off",
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="nbswarm-serve", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8123`` (endpoints are ``url + "/v1/..."``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nbswarm server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving (open streams are cancelled after a 2 s grace) and free the port."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<nbswarm BackgroundServer {self.url}>"


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    max_agents: int | None = None,
    max_tokens: int | None = None,
    *,
    max_connections: int | None = None,
    **options: Any,
) -> BackgroundServer:
    """Start the API in a background thread and return it once it answers (``port=0``: any free port).

    ``options`` go to ``create_app`` (``simulate``, ``sim_profile``, ``provider_for``, ``limits``, settings).
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidArgument(f"port must be an integer from 0 to 65535, got {port!r}")
    exposure = exposure_warning(host, os.environ.get(API_KEY_ENV) if api_key is None else api_key)
    if exposure:
        warnings.warn(exposure, UserWarning, stacklevel=2)
    _default_hosts(host, options)
    app = create_app(api_key, max_agents, max_tokens, **options)
    return BackgroundServer(app, host, port, max_connections).start()


def __getattr__(name: str) -> Any:
    """``app``: a default app made on first use, for ``uvicorn nbswarm.sse.server:app``."""
    if name == "app":
        globals()["app"] = made = create_app()
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
