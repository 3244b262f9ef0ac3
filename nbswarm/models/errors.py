"""Model failures with one clear line each, instead of a provider's nested exception text.

ModelError (NbswarmError)
├── MissingCredentials     no API key: names the variable to set and the offline sim
├── AuthenticationFailed   the provider refused the key (401/403)
├── RateLimited            429: too many requests or tokens per minute, or out of quota
├── ContextWindowExceeded  the prompt is longer than the model accepts
├── ModelNotFound          404: no such model (or no access to it) at that endpoint
├── ModelUnavailable       connection failures and 5xx before the answer: the ones worth a retry
└── ModelTimeout           no delta for ``idle_timeout`` seconds, or the turn passed ``timeout``

``explain(exc, model)`` maps litellm's, openai's and httpx's exceptions (by class name and HTTP
status, so this module imports none of them) onto these; anything else passes through unchanged.
"""

from __future__ import annotations

import os
import re

from ..errors import NbswarmError

__all__ = [
    "AuthenticationFailed",
    "ContextWindowExceeded",
    "MissingCredentials",
    "ModelError",
    "ModelNotFound",
    "ModelTimeout",
    "ModelUnavailable",
    "RateLimited",
    "explain",
    "key_variable",
    "missing_key",
]

# litellm provider prefix -> the environment variable litellm reads the key from.
KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "cohere": "COHERE_API_KEY",
}
_MAX_DETAIL = 240
_CONNECTION = {
    "APIConnectionError",  # litellm / openai
    "ConnectError",  # httpx: could not connect
    "ReadError",  # httpx: the connection broke
    "RemoteProtocolError",  # httpx: the server closed it mid-response
    "ConnectionRefusedError",
    "ConnectionResetError",
}


class ModelError(NbswarmError):
    """A model provider failed; the message is one line a person can act on."""

    retryable = False
    """Whether trying again (before the first token) may succeed."""


class MissingCredentials(ModelError):
    """No API key for the model's provider."""


class AuthenticationFailed(ModelError):
    """The provider rejected the API key."""


class RateLimited(ModelError):
    """The provider's rate limit or quota was hit."""


class ContextWindowExceeded(ModelError):
    """The messages are longer than the model's context window."""


class ModelNotFound(ModelError):
    """The endpoint does not serve this model (or the key has no access to it)."""


class ModelUnavailable(ModelError):
    """The provider could not be reached, or failed (5xx) before answering."""

    retryable = True


class ModelTimeout(ModelError):
    """The stream stalled (``idle_timeout``) or the turn took longer than ``timeout``."""


def key_variable(model: str) -> str:
    """The environment variable litellm reads ``model``'s key from (OpenAI's for a bare name)."""
    prefix = model.split("/", 1)[0] if "/" in model else "openai"
    return KEY_VARIABLES.get(prefix, f"{prefix.upper()}_API_KEY")


def missing_key(model: str, variables: list[str] | None = None) -> MissingCredentials:
    """The one-line error for a model whose key is not set."""
    names = " or ".join(variables or [key_variable(model)])
    bare = model.split("/", 1)[1] if "/" in model else model
    return MissingCredentials(
        f"{model}: no API key: set {names} (or pass llm_api_key=...); to run offline use "
        f"model_name='sim/{bare}' or NBSWARM_SIMULATE=1"
    )


def explain(exc: BaseException, model: str, base_url: str | None = None) -> BaseException:
    """``exc`` as a ``ModelError`` with a clear message when it is a known provider failure."""
    if isinstance(exc, ModelError):
        return exc
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = _status(exc)
    detail = _detail(exc)
    lowered = detail.lower()
    where = base_url or "the provider"
    if (
        "missing credentials" in lowered
        or "api_key client option must be set" in lowered
        or ("api key" in lowered and ("not set" in lowered or "missing" in lowered))
    ):
        return missing_key(model)
    code = getattr(exc, "code", None)
    if (
        "ContextWindowExceededError" in names
        or code == "context_length_exceeded"
        or "context_length_exceeded" in lowered
    ):
        return ContextWindowExceeded(f"{model}: the prompt is longer than the context window ({detail})")
    if "AuthenticationError" in names or "PermissionDeniedError" in names or status in (401, 403):
        return AuthenticationFailed(
            f"{model}: {where} rejected the API key ({status or 'auth'}): check {key_variable(model)} "
            f"or llm_api_key ({detail})"
        )
    if "RateLimitError" in names or status == 429:
        return RateLimited(f"{model}: rate limit or quota reached at {where}; wait and retry ({detail})")
    if "NotFoundError" in names or status == 404:
        return ModelNotFound(f"{model}: {where} has no such model, or the key cannot use it ({detail})")
    if "Timeout" in names or "ReadTimeout" in names or "ConnectTimeout" in names:
        return ModelTimeout(f"{model}: {where} did not answer in time ({detail})")
    if names & _CONNECTION or (status in (500, 502, 503, 504, 529) or "ServiceUnavailableError" in names):
        return ModelUnavailable(f"{model}: Connection failed to {where} ({detail})")
    return exc


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


_PREFIXES = re.compile(
    r"^(?:litellm\.)?\w+(?:Error|Exception)?:\s*(?:litellm\.\w+:\s*)?(?:\w+Exception\s*-\s*)?"
)


def _detail(exc: BaseException) -> str:
    """The provider's own message, one line, without litellm's repeated class-name prefixes."""
    text = str(exc) or type(exc).__name__
    line = " ".join(text.split())
    for _ in range(3):
        stripped = _PREFIXES.sub("", line, count=1)
        if stripped == line or not stripped:
            break
        line = stripped
    return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 1] + "…"


def env_has(variable: str) -> bool:
    """Whether ``variable`` is set to something non-empty."""
    return bool(os.environ.get(variable, "").strip())
