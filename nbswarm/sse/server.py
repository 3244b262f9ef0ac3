"""``nbswarm serve``: the Swarms-style SSE API on Starlette + sse-starlette + uvicorn.

Endpoints (``create_app`` returns the ASGI app; ``serve`` runs it with uvicorn;
``serve_in_thread`` runs it in a background thread, e.g. from a notebook)::

    GET  /health                  {"status": "ok", ...}; never needs a key
    GET  /v1/swarms/available     swarm types, and which stream per token (all three do)
    POST /v1/agent/completions    {"agent_config": {...}, "task": ...}; streams if agent_config.streaming_on:
                                  metadata, chunk{content}, usage, [error], done   (api-agent-sse.md)
    POST /v1/swarm/completions    a swarm spec; streams when "stream": true:
                                  metadata, start, agent_start, chunk{agent, content, output}, agent_end,
                                  usage, [error], end                               (api-swarm-sse.md)
    POST /v1/chat/completions     OpenAI-compatible, backed by the sim model (see ``_openai``)

Every request runs real nbswarm agents and workflows on the server's own
event loop (``async for event in run``); each event is written with
``events.to_wire``. Models are simulated by default: a payload's
``"model_name": "gpt-4o-mini"`` streams from the sim at that model's price
and realistic speed, so the server answers with no provider key. The
operator opts into real models (litellm, keys from the environment) with
``NBSWARM_SERVE_REAL_MODELS=1`` or ``create_app(simulate=False)``.

The running ``output`` on swarm chunks (the agent's text so far) is what the
seed sends, but it makes a stream O(n²) bytes in the answer's length by
nature; a client sends ``"stream_output": false`` to get only ``content``.
JSON is written ASCII-escaped, so any line splitter (``requests.iter_lines``
splits on U+2028) reads it.

A client that disconnects cancels its run at once (its agents end as
``cancelled``); ``app.state.nbswarm.active_runs`` counts runs still going.
A failure during a stream is an ``error`` event, and the stream still ends
with ``end`` (swarm) or ``done`` (agent). When a key is configured (``api_key``,
else env ``NBSWARM_API_KEY``), every ``/v1`` request needs it in ``x-api-key``
(or ``Authorization: Bearer``, for OpenAI clients), else 401. Bad payloads
are 422 ``{"error": ..., "field": "agents[1].max_tokens"}`` before anything runs.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InvalidArgument
from ..events import to_wire
from ..models.sim import SimProfile, SimProvider
from ..run import Run
from ._openai import chat_completion_response, chat_request
from ._payload import SWARM_TYPES, Limits, PayloadError, ProviderFor, agent_request, swarm_request
from ._stream import PING_SECONDS, ServerState, sse_response

__all__ = [
    "API_KEY_ENV",
    "REAL_MODELS_ENV",
    "BackgroundServer",
    "ServerState",
    "create_app",
    "serve",
    "serve_in_thread",
]

API_KEY_ENV = "NBSWARM_API_KEY"
REAL_MODELS_ENV = "NBSWARM_SERVE_REAL_MODELS"
MAX_BODY_BYTES = 1_000_000


def _error_body(message: str, status: int, field: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status)


async def _json_body(request: Request) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadError("body", f"is larger than this server's limit of {MAX_BODY_BYTES} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadError("body", f"is larger than this server's limit of {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("body", f"is not valid JSON: {exc}") from None


def _authorized(request: Request, key: str | None) -> bool:
    if not key:
        return True
    given = request.headers.get("x-api-key")
    if given is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else None
    return given is not None and secrets.compare_digest(given.encode(), key.encode())


Handler = Callable[[Request, ServerState], Awaitable[Response]]


def _endpoint(handler: Handler, *, public: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Auth and the 422 translation around one handler."""

    async def endpoint(request: Request) -> Response:
        state: ServerState = request.app.state.nbswarm
        if not public and not _authorized(request, state.api_key):
            return _error_body(
                "missing or invalid API key: send it in the x-api-key header", 401, "x-api-key"
            )
        try:
            return await handler(request, state)
        except PayloadError as exc:
            return _error_body(exc.message, 422, exc.field)

    return endpoint


async def _health(request: Request, state: ServerState) -> Response:
    from .. import __version__

    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "simulated": state.simulated,
            "active_runs": state.active_runs,
        }
    )


async def _available(request: Request, state: ServerState) -> Response:
    types = [
        {"name": name, "description": text, "streaming": "per_token"} for name, text in SWARM_TYPES.items()
    ]
    return JSONResponse({"success": True, "swarm_types": list(SWARM_TYPES), "details": types})


async def _agent(request: Request, state: ServerState) -> Response:
    spec = agent_request(await _json_body(request), state.limits, state.provider_for)
    run = spec.agent.stream(spec.task)
    if spec.stream:
        return sse_response(state, run, agent_wire=True, stream_output=spec.stream_output)
    await _finish(state, run)
    end = run.end
    return JSONResponse(
        {
            "job_id": run.run_id,
            "success": end is not None and end.status == "completed",
            "name": spec.agent.agent_name,
            "description": spec.agent.description,
            "outputs": end.output if end else "",
            "status": end.status if end else "failed",
            "execution_time": end.execution_time if end else None,
            "usage": _usage(run),
            "errors": [to_wire(error)[1] for error in run.errors],
        }
    )


async def _swarm(request: Request, state: ServerState) -> Response:
    spec = swarm_request(await _json_body(request), state.limits, state.provider_for)
    run = spec.swarm.stream(spec.task)
    if spec.stream:
        return sse_response(state, run, agent_wire=False, stream_output=spec.stream_output)
    await _finish(state, run)
    end = run.end
    return JSONResponse(
        {
            "job_id": run.run_id,
            "status": end.status if end else "failed",
            "swarm_name": spec.swarm.name,
            "swarm_type": spec.swarm.swarm_type,
            "flow": spec.swarm.flow,
            "output": end.output if end else "",
            "outputs": [{"agent": turn.agent, "output": turn.output} for turn in run.turns],
            "execution_time": end.execution_time if end else None,
            "usage": _usage(run),
            "errors": [to_wire(error)[1] for error in run.errors],
        }
    )


async def _chat(request: Request, state: ServerState) -> Response:
    model_request, stream, usage = chat_request(await _json_body(request), state.limits)
    provider = SimProvider(state.sim_profile) if state.sim_profile else SimProvider()
    return await chat_completion_response(provider, model_request, stream, usage, state.ping)


def _usage(run: Run) -> dict[str, Any] | None:
    return None if run.usage is None else to_wire(run.usage)[1]


async def _finish(state: ServerState, run: Run) -> None:
    state.track(run)
    try:
        await run
    except Exception:  # the body failed outside any agent: the JSON reports status "failed"
        pass
    finally:
        run.cancel()


def _sim_router(profile: SimProfile | None) -> ProviderFor:
    def provider_for(model_name: str) -> SimProvider:
        return SimProvider(profile) if profile is not None else SimProvider()

    return provider_for


def create_app(
    api_key: str | None = None,
    max_agents: int | None = None,
    max_tokens: int | None = None,
    *,
    simulate: bool | None = None,
    sim_profile: SimProfile | None = None,
    provider_for: ProviderFor | None = None,
    ping: float = PING_SECONDS,
) -> Starlette:
    """The ASGI app (for any ASGI server: ``uvicorn --factory nbswarm.sse.server:create_app``).

    ``api_key`` None reads env NBSWARM_API_KEY; empty means no auth. ``simulate`` None means
    simulated unless env NBSWARM_SERVE_REAL_MODELS=1. ``sim_profile`` sets the sim's timing and
    length; ``provider_for(model_name)`` overrides how agents get their model (tests, custom routing).
    ``ping`` is the seconds between keep-alive comments on a stream.
    """
    key = os.environ.get(API_KEY_ENV) if api_key is None else api_key
    if key is not None and not isinstance(key, str):
        raise InvalidArgument(f"api_key must be a string or None, got {type(key).__name__}")
    defaults = Limits()
    limits = Limits(
        max_agents=defaults.max_agents if max_agents is None else max_agents,
        max_tokens=defaults.max_tokens if max_tokens is None else max_tokens,
    )
    if simulate is None:
        simulate = os.environ.get(REAL_MODELS_ENV, "").strip().lower() not in ("1", "true", "yes", "on")
    if sim_profile is not None and not isinstance(sim_profile, SimProfile):
        raise InvalidArgument(f"sim_profile must be a SimProfile, got {type(sim_profile).__name__}")
    if provider_for is not None and not callable(provider_for):
        raise InvalidArgument("provider_for must be callable(model_name) -> Provider | None")
    router = provider_for or (_sim_router(sim_profile) if simulate else (lambda model_name: None))
    state = ServerState(limits, key or None, router, simulated=bool(simulate) and provider_for is None)
    state.sim_profile = sim_profile
    if isinstance(ping, bool) or not isinstance(ping, (int, float)) or not ping > 0:
        raise InvalidArgument(f"ping must be a positive number of seconds, got {ping!r}")
    state.ping = float(ping)
    app = Starlette(
        routes=[
            Route("/health", _endpoint(_health, public=True), methods=["GET"]),
            Route("/v1/swarms/available", _endpoint(_available), methods=["GET"]),
            Route("/v1/agent/completions", _endpoint(_agent), methods=["POST"]),
            Route("/v1/swarm/completions", _endpoint(_swarm), methods=["POST"]),
            Route("/v1/chat/completions", _endpoint(_chat), methods=["POST"]),
        ]
    )
    app.state.nbswarm = state
    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    max_agents: int | None = None,
    max_tokens: int | None = None,
    *,
    simulate: bool | None = None,
) -> int:
    """Run the API with uvicorn until interrupted (``nbswarm serve``); returns the exit status."""
    import uvicorn

    try:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidArgument(f"port must be an integer from 0 to 65535, got {port!r}")
        app = create_app(api_key, max_agents, max_tokens, simulate=simulate)
    except InvalidArgument as exc:
        print(f"nbswarm serve: {exc}", file=sys.stderr)
        return 2
    state: ServerState = app.state.nbswarm
    models = "simulated (sim), no provider key needed" if state.simulated else "real, via litellm"
    auth = "x-api-key required" if state.api_key else "no auth (set --api-key or NBSWARM_API_KEY)"
    print(f"nbswarm serve: models {models}; {auth}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
    return 0


class BackgroundServer:
    """The API served by uvicorn in a daemon thread of this process: ``.url``, ``.stop()``, a context manager.

    Uvicorn runs its own event loop in that thread, so this works inside a notebook (whose main
    thread already runs one) and the server's runs never touch the kernel's loop.
    """

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        import uvicorn

        self.app = app
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = host, self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan="off")
        self._server = uvicorn.Server(config)
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
    **options: Any,
) -> BackgroundServer:
    """Start the API in a background thread and return it once it answers (``port=0``: any free port).

    ``options`` go to ``create_app`` (``simulate``, ``sim_profile``, ``provider_for``, ``ping``).
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidArgument(f"port must be an integer from 0 to 65535, got {port!r}")
    app = create_app(api_key, max_agents, max_tokens, **options)
    return BackgroundServer(app, host, port).start()


def __getattr__(name: str) -> Any:
    """``app``: a default app made on first use, for ``uvicorn nbswarm.sse.server:app``."""
    if name == "app":
        globals()["app"] = made = create_app()
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
