"""``POST /v1/chat/completions``: an OpenAI-compatible endpoint backed by the sim model.

So any OpenAI client (the ``openai`` SDK, litellm with ``api_base``) can
stream from ``nbswarm serve`` with no key and no network: ``stream: true``
sends ``chat.completion.chunk`` objects as ``data:`` lines (a first one with
the role, one per piece of text, one with the ``finish_reason``; a last one
with ``usage`` and no choices when ``stream_options.include_usage``), then
``data: [DONE]``. A model failure mid-stream sends ``{"error": {...}}`` and
then ``[DONE]``, as OpenAI does (its message redacted like every error the
server sends: the type and a log reference). A reasoning model's thinking goes
in ``delta.reasoning_content``, as OpenAI-compatible servers send it, never in
``delta.content``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from starlette.responses import JSONResponse, Response

from ..models import Completion, ModelRequest, Provider, Reasoning, Text
from ._frames import safe_message
from ._payload import Limits, PayloadError, as_object, check_name, check_text, get_field
from ._state import ServerState
from ._stream import stream_response

__all__ = ["chat_completion_response", "chat_request"]


def _content(message: dict[str, Any], path: str) -> str:
    """A message's text: a string, null, or OpenAI's list of ``{"type": "text", "text": ...}`` parts."""
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        texts = []
        for j, part in enumerate(content):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif not (isinstance(part, dict) and isinstance(part.get("type"), str)):
                raise PayloadError(
                    f"{path}.content[{j}]", "must be a content part like {'type': 'text', 'text': ...}"
                )
        return "".join(texts)
    raise PayloadError(
        f"{path}.content", f"must be a string, a list of parts or null, got {type(content).__name__}"
    )


def chat_request(body: Any, limits: Limits) -> tuple[ModelRequest, bool, bool]:
    """The model request of an OpenAI chat body, whether to stream, and whether to send usage."""
    body = as_object(body, "")
    model = check_name(get_field(body, "model", "", (str,)), "model")
    if not model:
        raise PayloadError("model", "must not be empty")
    raw = get_field(body, "messages", "", (list,))
    if not raw:
        raise PayloadError("messages", "must hold at least one message")
    if len(raw) > 1000:
        raise PayloadError("messages", f"has {len(raw)} messages; this server allows up to 1000")
    messages = []
    chars = 0
    for i, message in enumerate(raw):
        message = as_object(message, f"messages[{i}]")
        role = check_name(get_field(message, "role", f"messages[{i}]", (str,)), f"messages[{i}].role")
        content = check_text(_content(message, f"messages[{i}]"), f"messages[{i}].content")
        chars += len(content)
        messages.append({"role": role, "content": content})
    if chars > limits.max_task_chars:
        raise PayloadError(
            "messages", f"hold {chars} characters; this server accepts up to {limits.max_task_chars}"
        )
    key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    max_tokens = get_field(body, key, "", (int,), None)
    if max_tokens is not None and not 1 <= max_tokens <= limits.max_tokens:
        raise PayloadError(
            key, f"must be from 1 to {limits.max_tokens} (the server's limit), got {max_tokens}"
        )
    temperature = get_field(body, "temperature", "", (int, float), None)
    if temperature is not None and not 0 <= temperature <= 2:
        raise PayloadError("temperature", f"must be from 0 to 2, got {temperature}")
    n = get_field(body, "n", "", (int,), 1)
    if n != 1:
        raise PayloadError("n", "only n=1 is supported")
    options = as_object(body.get("stream_options") or {}, "stream_options")
    request = ModelRequest(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        temperature=None if temperature is None else float(temperature),
        seed=get_field(body, "seed", "", (int,), None),
    )
    stream = get_field(body, "stream", "", (bool,), False)
    return request, stream, bool(get_field(options, "include_usage", "stream_options", (bool,), False))


def _usage(completion: Completion | None) -> dict[str, int]:
    i = completion.input_tokens if completion else 0
    o = completion.output_tokens if completion else 0
    return {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o}


def _error(exc: Exception, redact: bool) -> dict[str, Any]:
    message = str(exc) or repr(exc)
    if redact:
        message = safe_message(type(exc).__name__, message, "chat completion")
    return {"message": message, "type": type(exc).__name__, "code": None, "param": None}


async def chat_completion_response(
    state: ServerState, provider: Provider, request: ModelRequest, stream: bool, usage: bool
) -> Response:
    """The streaming or whole response to one chat completion request."""
    ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    redact = state.settings.redact_errors
    if stream:
        return stream_response(state, lambda: _chunks(provider, request, ident, created, usage, redact))
    pieces: list[str] = []
    reasoning: list[str] = []
    completion: Completion | None = None
    try:
        async for item in provider.stream(request):
            if isinstance(item, str):
                pieces.append(item)
            elif isinstance(item, Text):
                pieces.append(item.content)
            elif isinstance(item, Reasoning):
                reasoning.append(item.content)
            else:
                completion = item
    except Exception as exc:  # the model failed: OpenAI's error object
        return JSONResponse({"error": _error(exc, redact)}, status_code=500)
    message = {"role": "assistant", "content": "".join(pieces)}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    return JSONResponse(
        {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": completion.finish_reason if completion else "stop",
                }
            ],
            "usage": _usage(completion),
        }
    )


async def _chunks(
    provider: Provider, request: ModelRequest, ident: str, created: int, usage: bool, redact: bool
) -> AsyncIterator[bytes]:
    head = json.dumps(
        {"id": ident, "object": "chat.completion.chunk", "created": created, "model": request.model}
    )
    prefix = (head[:-1] + ',"choices":[{"index":0,"delta":').encode()
    tail = (',"logprobs":null,"finish_reason":null}]' + (',"usage":null}' if usage else "}")).encode()

    def frame(delta: dict[str, Any]) -> bytes:
        return b"data: " + prefix + json.dumps(delta).encode() + tail + b"\n\n"

    yield frame({"role": "assistant", "content": ""})
    completion: Completion | None = None
    try:
        async with aclosing(provider.stream(request)) as items:  # type: ignore[type-var]
            async for item in items:
                if isinstance(item, Text):
                    item = item.content
                if isinstance(item, Reasoning):
                    if item.content:
                        yield frame({"reasoning_content": item.content})
                elif isinstance(item, str):
                    if item:
                        # the per-token hot path: one small json.dumps of the piece, no dict building
                        yield (
                            b"data: "
                            + prefix
                            + b'{"content":'
                            + json.dumps(item).encode()
                            + b"}"
                            + tail
                            + b"\n\n"
                        )
                else:
                    completion = item
    except Exception as exc:
        yield b"data: " + json.dumps({"error": _error(exc, redact)}).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"
        return
    finish = {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": completion.finish_reason if completion else "stop",
    }
    base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": request.model}
    yield (
        b"data: "
        + json.dumps({**base, "choices": [finish], **({"usage": None} if usage else {})}).encode()
        + b"\n\n"
    )
    if usage:
        yield b"data: " + json.dumps({**base, "choices": [], "usage": _usage(completion)}).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"
