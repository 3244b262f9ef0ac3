"""Providers' streaming responses as they travel on the wire, byte for byte.

Each is the shape the provider documents for its streaming API (and litellm's own tests record):

* OpenAI chat completions SSE: ``data: {chunk}`` frames of compact JSON, the first carrying the
  role, a last choice with ``finish_reason``, then (``stream_options.include_usage``) a chunk
  with ``"choices":[]`` and the usage, then ``data: [DONE]``.
* OpenAI's 400 for an option a model rejects: the ``error`` object with ``param`` and ``code``.
* DeepSeek-R1 / vLLM reasoning through the same API: ``delta.reasoning_content`` before
  ``delta.content``; OpenAI's own o-series streams report ``reasoning_tokens`` in the usage only.
* Anthropic Messages SSE with extended thinking: ``event:`` lines, ``message_start`` (input
  usage), a ``thinking`` block of ``thinking_delta`` and ``signature_delta``, a ``text`` block,
  ``message_delta`` (stop reason, output usage), ``message_stop``; ``ping`` anywhere.
* Gemini ``streamGenerateContent?alt=sse``: ``data: {GenerateContentResponse}`` frames, thought
  parts flagged ``"thought": true``, ``usageMetadata`` on each, ``finishReason`` on the last.
* Ollama ``/api/generate`` and ``/api/chat``: NDJSON, one object a line, the last ``"done":true``
  with ``prompt_eval_count`` / ``eval_count``.
"""

from __future__ import annotations

CREATED = 1733054400
FP = "fp_44709d6fcb"


def _openai_chunk(
    model: str, delta: str, finish: str = "null", cid: str = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
) -> bytes:
    return (
        f'data: {{"id":"{cid}","object":"chat.completion.chunk","created":{CREATED},"model":"{model}",'
        f'"service_tier":"default","system_fingerprint":"{FP}","choices":[{{"index":0,"delta":{delta},'
        f'"logprobs":null,"finish_reason":{finish}}}],"usage":null,"obfuscation":"x1"}}\n\n'
    ).encode()


def _openai_usage(model: str, prompt: int, completion: int, reasoning: int = 0, cost: str = "") -> bytes:
    extra = f',"cost":{cost}' if cost else ""
    return (
        f'data: {{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk",'
        f'"created":{CREATED},"model":"{model}","service_tier":"default","system_fingerprint":"{FP}",'
        f'"choices":[],"usage":{{"prompt_tokens":{prompt},"completion_tokens":{completion},'
        f'"total_tokens":{prompt + completion},"prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},'
        f'"completion_tokens_details":{{"reasoning_tokens":{reasoning},"audio_tokens":0,'
        f'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}{extra}}},"obfuscation":"y2"}}\n\n'
    ).encode()


DONE = b"data: [DONE]\n\n"
OPENAI_WORDS = ["Robots", " paint", " because", " their", " owners", " asked", "."]


def openai_stream(
    model: str = "gpt-4o-mini-2024-07-18",
    words: list[str] = OPENAI_WORDS,
    *,
    prompt_tokens: int = 19,
    reasoning: list[str] = (),
    reasoning_tokens: int = 0,
    cost: str = "",
    usage: bool = True,
    finish: str = "stop",
) -> list[bytes]:
    """OpenAI chat-completions SSE frames for ``words`` (and ``reasoning_content`` deltas first)."""
    frames = [_openai_chunk(model, '{"role":"assistant","content":"","refusal":null}')]
    for thought in reasoning:
        frames.append(_openai_chunk(model, '{"content":null,"reasoning_content":' + _json(thought) + "}"))
    frames += [_openai_chunk(model, '{"content":' + _json(word) + "}") for word in words]
    frames.append(_openai_chunk(model, "{}", f'"{finish}"'))
    if usage:
        completion = len(words) + len(reasoning) + reasoning_tokens
        frames.append(
            _openai_usage(model, prompt_tokens, completion, reasoning_tokens + len(reasoning), cost)
        )
    frames.append(DONE)
    return frames


def _json(text: str) -> str:
    import json

    return json.dumps(text)


OPENAI_UNSUPPORTED_TEMPERATURE = (
    b'{\n  "error": {\n    "message": "Unsupported parameter: \'temperature\' is not supported with this model.",\n'
    b'    "type": "invalid_request_error",\n    "param": "temperature",\n    "code": "unsupported_parameter"\n  }\n}'
)
OPENAI_UNSUPPORTED_TEMPERATURE_VALUE = (
    b'{\n  "error": {\n    "message": "Unsupported value: \'temperature\' does not support 0.5 with this model. '
    b'Only the default (1) value is supported.",\n    "type": "invalid_request_error",\n'
    b'    "param": "temperature",\n    "code": "unsupported_value"\n  }\n}'
)
OPENAI_INVALID_KEY = (
    b'{\n  "error": {\n    "message": "Incorrect API key provided: sk-wrong. You can find your API key at '
    b'https://platform.openai.com/account/api-keys.",\n    "type": "invalid_request_error",\n'
    b'    "param": null,\n    "code": "invalid_api_key"\n  }\n}'
)
OPENAI_RATE_LIMIT = (
    b'{\n  "error": {\n    "message": "Rate limit reached for gpt-4o-mini in organization org-abc on tokens per '
    b'min (TPM): Limit 200000, Used 199990, Requested 420. Please try again in 123ms.",\n'
    b'    "type": "tokens",\n    "param": null,\n    "code": "rate_limit_exceeded"\n  }\n}'
)
OPENAI_NOT_FOUND = (
    b'{\n  "error": {\n    "message": "The model `gpt-9-turbo` does not exist or you do not have access to it.",\n'
    b'    "type": "invalid_request_error",\n    "param": null,\n    "code": "model_not_found"\n  }\n}'
)
OPENAI_CONTEXT = (
    b'{\n  "error": {\n    "message": "This model\'s maximum context length is 128000 tokens. However, your '
    b'messages resulted in 130412 tokens. Please reduce the length of the messages.",\n'
    b'    "type": "invalid_request_error",\n    "param": "messages",\n    "code": "context_length_exceeded"\n  }\n}'
)

ANTHROPIC_THINKING = [
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01HCDu5LRGeP2o7s2xGmxyx8",'
    b'"type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,'
    b'"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,'
    b'"cache_read_input_tokens":0,"output_tokens":1}}}\n\n',
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n',
    b'event: ping\ndata: {"type": "ping"}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"thinking_delta","thinking":"Let me solve this step by step:\\n\\n1. First break down 27 * 453"}}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"thinking_delta","thinking":"\\n2. 453 = 400 + 50 + 3"}}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}\n\n',
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
    b'"content_block":{"type":"text","text":""}}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,'
    b'"delta":{"type":"text_delta","text":"27 * 453 = "}}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,'
    b'"delta":{"type":"text_delta","text":"12,231"}}\n\n',
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
    b'"usage":{"output_tokens":15}}\n\n',
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
]

GEMINI_THINKING = [
    b'data: {"candidates": [{"content": {"parts": [{"text": "**Counting the letters**\\n\\nStrawberry has three r\'s.",'
    b' "thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,'
    b'"totalTokenCount": 39,"thoughtsTokenCount": 30},"modelVersion": "gemini-2.5-flash",'
    b'"responseId": "r1bXaNnYGqPUjMcPgqmT4Qo"}\r\n\r\n',
    b'data: {"candidates": [{"content": {"parts": [{"text": "There are three"}],"role": "model"},"index": 0}],'
    b'"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 3,"totalTokenCount": 42,'
    b'"thoughtsTokenCount": 30},"modelVersion": "gemini-2.5-flash","responseId": "r1bXaNnYGqPUjMcPgqmT4Qo"}\r\n\r\n',
    b'data: {"candidates": [{"content": {"parts": [{"text": " r\'s in strawberry."}],"role": "model"},'
    b'"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 8,'
    b'"totalTokenCount": 47,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}],'
    b'"thoughtsTokenCount": 30},"modelVersion": "gemini-2.5-flash","responseId": "r1bXaNnYGqPUjMcPgqmT4Qo"}\r\n\r\n',
]

OLLAMA_GENERATE = [
    b'{"model":"llama3.2","created_at":"2026-12-01T08:52:19.385406455Z","response":"The","done":false}\n',
    b'{"model":"llama3.2","created_at":"2026-12-01T08:52:19.404111263Z","response":" sky","done":false}\n',
    b'{"model":"llama3.2","created_at":"2026-12-01T08:52:19.422760413Z","response":" is blue.","done":false}\n',
    b'{"model":"llama3.2","created_at":"2026-12-01T08:52:19.441412402Z","response":"","done":true,'
    b'"done_reason":"stop","context":[1,2,3],"total_duration":10706818083,"load_duration":6338219291,'
    b'"prompt_eval_count":26,"prompt_eval_duration":130079000,"eval_count":3,"eval_duration":4232710000}\n',
]

OLLAMA_CHAT_THINKING = [
    b'{"model":"qwen3","created_at":"2026-12-01T08:52:19.385406455Z","message":{"role":"assistant",'
    b'"content":"","thinking":"The user wants a colour."},"done":false}\n',
    b'{"model":"qwen3","created_at":"2026-12-01T08:52:19.404111263Z","message":{"role":"assistant",'
    b'"content":"","thinking":" Blue is the answer."},"done":false}\n',
    b'{"model":"qwen3","created_at":"2026-12-01T08:52:19.422760413Z","message":{"role":"assistant",'
    b'"content":"Blue."},"done":false}\n',
    b'{"model":"qwen3","created_at":"2026-12-01T08:52:19.441412402Z","message":{"role":"assistant","content":""},'
    b'"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,'
    b'"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":12,"eval_duration":4535599000}\n',
]

ANTHROPIC_AUTH_ERROR = b'{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}'
ANTHROPIC_OVERLOADED = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fz"}'
