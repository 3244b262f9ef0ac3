"""A recording comm for the live view's tests: the exact messages a frontend would receive."""

from __future__ import annotations

import json
from typing import Any


class RecordingComm:
    """Stands in for a kernel comm: records what the widget sends, lets a test play the frontend."""

    def __init__(self, **kwargs: Any) -> None:
        self.opened = kwargs.get("data")
        self.sent: list[dict[str, Any]] = []
        self.comm_id = "test-comm"
        self._handler: Any = None

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.sent.append(data)

    def on_msg(self, handler: Any) -> None:
        self._handler = handler

    def on_close(self, handler: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass

    def from_frontend(self, content: dict[str, Any]) -> None:
        self._handler({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})

    @property
    def custom(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.sent if m.get("method") == "custom"]

    @property
    def updates(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.sent if m.get("method") == "update"]

    def nbytes(self) -> int:
        return sum(len(json.dumps(m, separators=(",", ":")).encode()) for m in self.sent)
