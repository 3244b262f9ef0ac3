"""The endpoints of ``nbswarm serve``: auth, the run limit, 4xx answers, and each route's handler.

Every handler reads its body through ``_http.read_json`` (bounded in size and time),
builds validated agents and workflows (``_payload``), tracks the run in the app's
``ServerState`` and answers with an SSE stream (``_stream.run_response``) or, for a
non-streaming request, JSON once the run ends; a client that leaves before that
cancels the run (a task waits on the ASGI ``http.disconnect``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._engine_loop import adopt_current_loop
from ..events import to_wire
from ..models.sim import SimProvider
from ..run import Run
from ._frames import safe_message
from ._http import Disconnected, read_json
from ._openai import chat_completion_response, chat_request
from ._payload import SWARM_TYPES, PayloadError, agent_request, swarm_request
from ._state import ServerState
from ._stream import run_response

__all__ = ["agent", "available", "chat", "endpoint", "health", "swarm"]


def _error_body(
    message: str, status: int, field: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(body, status_code=status, headers=headers)


def _authorized(request: Request, key: str | None) -> bool:
    if not key:
        return True
    given = request.headers.get("x-api-key")
    if given is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else None
    return given is not None and secrets.compare_digest(given.encode(), key.encode())


Handler = Callable[[Request, ServerState], Awaitable[Response]]


def endpoint(
    handler: Handler, *, public: bool = False, runs: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Auth, the server-wide run limit and the 4xx translation around one handler."""

    async def respond(request: Request) -> Response:
        adopt_current_loop()  # runs go on this loop, beside their streams: no cross-thread hand-off per batch
        state: ServerState = request.app.state.nbswarm
        if not public and not _authorized(request, state.api_key):
            return _error_body(
                "missing or invalid API key: send it in the x-api-key header", 401, "x-api-key"
            )
        if runs and state.full():
            limit = state.settings.max_runs
            return _error_body(
                f"this server is running {state.active_runs} runs, as many as it allows (--max-runs {limit})",
                429,
                headers={"Retry-After": "1"},
                limit="max_runs",
                value=state.active_runs,
            )
        try:
            return await handler(request, state)
        except PayloadError as exc:
            close = {"Connection": "close"} if exc.status in (408, 413) else None
            return _error_body(exc.message, exc.status, exc.field, close, limit=exc.limit, value=exc.value)
        except Disconnected:
            return Response(status_code=400)  # never sent: the client is gone

    return respond


async def _body(request: Request, state: ServerState) -> Any:
    settings = state.settings
    return await read_json(request, settings.max_body_bytes, settings.body_timeout)


async def health(request: Request, state: ServerState) -> Response:
    from .. import __version__

    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "simulated": state.simulated,
            "active_runs": state.active_runs,
            "max_runs": state.settings.max_runs,
        }
    )


async def available(request: Request, state: ServerState) -> Response:
    types = [
        {"name": name, "description": text, "streaming": "per_token"} for name, text in SWARM_TYPES.items()
    ]
    return JSONResponse({"success": True, "swarm_types": list(SWARM_TYPES), "details": types})


def _errors(state: ServerState, run: Run) -> list[dict[str, Any]]:
    out = []
    for error in run.errors:
        data = to_wire(error)[1]
        if state.settings.redact_errors:
            data["message"] = safe_message(error.error_type, error.message, f"run {run.run_id}")
        out.append(data)
    return out


async def agent(request: Request, state: ServerState) -> Response:
    spec = agent_request(await _body(request, state), state.limits, state.provider_for)
    run = spec.agent.stream(spec.task)
    state.track(run)
    if spec.stream:
        return run_response(state, run, agent_wire=True, stream_output=spec.stream_output)
    if not await _finish(state, run, request):
        return Response(status_code=499)  # the client left; never sent
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
            "errors": _errors(state, run),
        }
    )


async def swarm(request: Request, state: ServerState) -> Response:
    spec = swarm_request(await _body(request, state), state.limits, state.provider_for)
    run = spec.swarm.stream(spec.task)
    state.track(run)
    if spec.stream:
        return run_response(state, run, agent_wire=False, stream_output=spec.stream_output)
    if not await _finish(state, run, request):
        return Response(status_code=499)
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
            "usage": _usage(run, billing=True),
            "errors": _errors(state, run),
        }
    )


async def chat(request: Request, state: ServerState) -> Response:
    model_request, stream, usage = chat_request(await _body(request, state), state.limits)
    provider = SimProvider(state.sim_profile) if state.sim_profile else SimProvider()
    return await chat_completion_response(state, provider, model_request, stream, usage)


def _usage(run: Run, billing: bool = False) -> dict[str, Any] | None:
    if run.usage is None:
        return None
    data = to_wire(run.usage)[1]
    if billing:
        data["billing_info"] = {"total_cost": run.usage.cost, "currency": "USD"}
    return data


async def _finish(state: ServerState, run: Run, request: Request) -> bool:
    """Run a non-streaming request to its end; False (the run cancelled) if the client leaves first."""
    loop = asyncio.get_running_loop()
    body = loop.create_task(_await_quietly(run))
    gone = loop.create_task(_disconnected(request))
    try:
        await asyncio.wait((body, gone), return_when=asyncio.FIRST_COMPLETED)
        return body.done()
    finally:
        gone.cancel()
        if not body.done():
            run.cancel()
            body.cancel()
        state.release(run)


async def _await_quietly(run: Run) -> None:
    with contextlib.suppress(Exception):  # the body failed outside any agent: the JSON says "failed"
        await run


async def _disconnected(request: Request) -> None:
    receive = request.receive
    while (await receive())["type"] != "http.disconnect":
        pass
