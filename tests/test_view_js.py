"""The real ``view.js`` in headless Chromium, driven by the messages the real kernel side sends.

No JupyterLab: a blank page loads ``view.js`` and ``view.css`` as the widget's files, a fake
anywidget model (``get``/``set``/``on``/``off``/``send``) stands in for ipywidgets, and each test
plays the comm messages that a ``LiveView`` sent for a scripted run (recorded with a recording
comm, as anywidget's own tests do). What is checked is what the page shows: the text in each
turn of each panel, the rendered markdown, the figures, the scroll-follow rule, the late-page
snapshot. One browser for the module (~1 s in all); the full JupyterLab tests are in
``test_browser.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import comm
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_util as bu
from widget_util import RecordingComm

from nbswarm.events import (
    LOOP_SEPARATOR,
    AgentEnd,
    AgentStart,
    Chunk,
    End,
    Error,
    Event,
    Metadata,
    Start,
    Usage,
)
from nbswarm.widget import LiveView

pytestmark = [
    pytest.mark.skipif(
        bu.chromium_path() is None, reason="chromium is not installed (apt-get install chromium)"
    ),
    pytest.mark.timeout(60),
]

STATIC = bu.REPO / "nbswarm" / "widget" / "static"
ORIGIN = "http://nbswarm.test"

HARNESS = """<!doctype html><html><head><link rel="stylesheet" href="/view.css"></head>
<body><div id="views" style="width: 640px"></div>
<script type="module">
import widget from "/view.js";

class FakeModel {  // what anywidget hands a widget: get/set/on/off/send
  constructor(state) { this.state = { ...state }; this.handlers = {}; this.sent = []; }
  get(key) { return this.state[key]; }
  set(key, value) { this.state[key] = value; this.fire("change:" + key); }
  on(name, cb) { (this.handlers[name] ||= []).push(cb); }
  off(name, cb) { this.handlers[name] = (this.handlers[name] || []).filter((h) => h !== cb); }
  send(message) { this.sent.push(message); }
  fire(name, ...args) { for (const cb of [...(this.handlers[name] || [])]) cb(...args); }
}

const models = [];
window.harness = {
  model(state) {
    const model = new FakeModel(state);
    widget.initialize({ model });
    models.push(model);
    return models.length - 1;
  },
  view(index) {
    const el = document.createElement("div");
    document.getElementById("views").append(el);
    widget.render({ model: models[index], el });
    return document.querySelectorAll("#views > div").length - 1;
  },
  play(index, ops) {
    const model = models[index];
    for (const op of ops) {
      if (op.custom) model.fire("msg:custom", op.custom);
      else for (const [key, value] of Object.entries(op.update)) model.set(key, value);
    }
  },
  sent(index) { return models[index].sent; },
  panels(viewIndex) {
    const root = document.querySelectorAll("#views > div")[viewIndex];
    return [...root.querySelectorAll(".nbswarm-panel")].map((el) => {
      const turns = [...el.querySelectorAll(".nbswarm-turn")];
      return {
        agent: el.dataset.agent,
        status: el.dataset.status,
        raw: turns.map((t) => t.querySelector(".nbswarm-text").textContent).join(""),
        visible: el.querySelector(".nbswarm-scroll").innerText,
        turns: turns.map((t) => ({
          raw: t.querySelector(".nbswarm-text").textContent,
          rawShown: t.querySelector(".nbswarm-text").offsetParent !== null,
          md: t.querySelector(".nbswarm-md").innerHTML,
          mdShown: t.querySelector(".nbswarm-md").offsetParent !== null,
          think: t.querySelector(".nbswarm-think-text").textContent,
          thinkShown: !t.querySelector(".nbswarm-thinking").hidden,
          thinkOpen: t.querySelector(".nbswarm-thinking").open,
        })),
        figures: el.querySelector(".nbswarm-figures").textContent,
        tooltip: el.querySelector(".nbswarm-figures").title,
        error: el.querySelector(".nbswarm-error").innerText,
        errorStyle: getComputedStyle(el.querySelector(".nbswarm-error")).whiteSpace,
      };
    });
  },
  banner(viewIndex) {
    const b = document.querySelectorAll("#views > div")[viewIndex].querySelector(".nbswarm-banner");
    return b.hidden ? "" : b.textContent;
  },
};
window.harnessReady = true;
</script></body></html>"""


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Any]:
    with bu.chromium_page(width=900, height=900) as page:

        def serve(route: Any) -> None:
            path = route.request.url[len(ORIGIN) :].split("?")[0]
            if path == "/":
                route.fulfill(status=200, content_type="text/html", body=HARNESS)
            elif path in ("/view.js", "/view.css"):
                kind = "text/javascript" if path.endswith(".js") else "text/css"
                route.fulfill(status=200, content_type=kind, body=(STATIC / path[1:]).read_text())
            else:
                route.fulfill(status=404, body="")

        page.route(f"{ORIGIN}/**", serve)
        yield page


@pytest.fixture
def page(browser_page: Any) -> Any:
    browser_page.goto(f"{ORIGIN}/")
    browser_page.wait_for_function("() => window.harnessReady === true", timeout=10_000)
    return browser_page


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))


class Script:
    """Events for one run, fed straight into a real LiveView; ``flush()`` where a delta is wanted."""

    def __init__(self, swarm_type: str, agents: Sequence[str], *, flow: str | None = None) -> None:
        self.view = LiveView()
        self.seq = 0
        self.t = 0.0
        self.sent = 0  # messages already handed to the page
        self.emit(
            Metadata,
            job_id="r",
            name="scripted",
            swarm_type=swarm_type,
            number_of_agents=len(agents),
            agents=tuple(agents),
            flow=flow,
        )
        self.emit(Start)

    def emit(self, cls: type[Event], **fields: Any) -> None:
        self.t += 0.01
        self.view.sink(cls(run_id="r", seq=self.seq, t=self.t, **fields))
        self.seq += 1

    def turn(self, agent: str, pieces: Sequence[str], *, loop: int = 0, tokens: int | None = None) -> None:
        self.emit(AgentStart, agent=agent, loop=loop)
        for index, piece in enumerate(pieces):
            self.emit(Chunk, agent=agent, content=piece, index=index)
        self.emit(AgentEnd, agent=agent, output="".join(pieces), loop=loop)
        count = len(pieces) if tokens is None else tokens
        self.emit(Usage, agent=agent, output_tokens=count, total_tokens=count, cost=0.001)

    def end(self) -> None:
        self.emit(End, execution_time=self.t, output="", status="completed")
        self.view.finish()

    @property
    def opened(self) -> dict[str, Any]:
        return self.view.comm.opened["state"]

    def ops(self) -> list[dict[str, Any]]:
        """The messages sent since the last call, as the page should receive them."""
        new = self.view.comm.sent[self.sent :]
        self.sent = len(self.view.comm.sent)
        out = []
        for message in new:
            if message.get("method") == "custom":
                out.append({"custom": message["content"]})
            elif message.get("method") == "update":
                out.append({"update": message["state"]})
        return out


def mount(page: Any, script: Script) -> int:
    index = page.evaluate("(state) => harness.model(state)", script.opened)
    page.evaluate("(i) => harness.view(i)", index)
    return index


def play(page: Any, index: int, ops: list[dict[str, Any]]) -> None:
    page.evaluate("([i, ops]) => harness.play(i, ops)", [index, ops])


def panels(page: Any, view: int = 0) -> dict[str, dict[str, Any]]:
    return {p["agent"]: p for p in page.evaluate("(i) => harness.panels(i)", view)}


def tokens(text: str) -> list[str]:
    """Word-sized pieces that join back to ``text``."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        words = line.split(" ")
        out.extend(word + " " for word in words[:-1])
        out.append(words[-1])
    return [piece for piece in out if piece]


TURN_ONE = """## Prices

| source | cost |
|---|---|
| solar | low |
| wind | lower |
"""

TURN_TWO = """Next steps:

- build
  - solar first
  - then wind
- measure

3. third
4. fourth
"""


def test_a_panel_that_streams_a_second_turn_shows_it_and_renders_each_turn(page: Any) -> None:
    script = Script("Agent", ["Solo"])
    view = mount(page, script)
    script.turn("Solo", tokens(TURN_ONE))
    script.view.flush()
    play(page, view, script.ops())
    solo = panels(page)["Solo"]
    assert solo["raw"] == TURN_ONE
    assert "<table>" in solo["turns"][0]["md"] and solo["turns"][0]["mdShown"]

    # The second turn streams: its text is on screen under the rendered first turn.
    pieces = tokens(TURN_TWO)
    script.emit(AgentStart, agent="Solo", loop=1)
    script.emit(Chunk, agent="Solo", content=LOOP_SEPARATOR, index=0)  # as the engine sends it
    for index, piece in enumerate(pieces[:5]):
        script.emit(Chunk, agent="Solo", content=piece, index=index)
    script.view.flush()
    play(page, view, script.ops())
    solo = panels(page)["Solo"]
    assert [t["rawShown"] for t in solo["turns"]] == [False, True]
    assert solo["turns"][1]["raw"] == LOOP_SEPARATOR + "".join(pieces[:5])
    assert "Next steps:" in solo["visible"] and "solar first" not in solo["visible"]

    for index, piece in enumerate(pieces[5:], start=5):
        script.emit(Chunk, agent="Solo", content=piece, index=index)
    script.emit(AgentEnd, agent="Solo", output=TURN_TWO, loop=1)
    script.view.flush()
    play(page, view, script.ops())
    solo = panels(page)["Solo"]
    assert [t["mdShown"] for t in solo["turns"]] == [True, True]
    second = solo["turns"][1]["md"]
    assert "<ul>\n<li>solar first" in second and '<ol start="3">' in second
    script.end()
    play(page, view, script.ops())
    solo = panels(page)["Solo"]
    assert solo["raw"] == script.view.texts["Solo"] == TURN_ONE + "\n\n" + TURN_TWO
    # The raw toggle shows exactly the text, both turns.
    page.click(".nbswarm-md-toggle")
    solo = panels(page)["Solo"]
    assert solo["visible"].split() == (TURN_ONE + "\n\n" + TURN_TWO).split()


MARKDOWN = """Intro with `code` and a [link](https://en.wikipedia.org/wiki/Python_(language)).

~~~python
def f(x):
    return x + 1
~~~

<script>window.pwned = true</script> <img src=x onerror="window.pwned = true">
[bad](javascript:window.pwned=true)
"""


def test_markdown_is_the_kernels_rendering_safe_and_highlighted(page: Any) -> None:
    script = Script("Agent", ["Writer"])
    view = mount(page, script)
    script.turn("Writer", tokens(MARKDOWN))
    script.end()
    play(page, view, script.ops())
    md = page.locator(".nbswarm-md").first
    assert md.locator("a").first.get_attribute("href") == "https://en.wikipedia.org/wiki/Python_(language)"
    assert md.locator("a").first.get_attribute("rel") == "noopener noreferrer"
    assert md.locator("pre code .k").first.text_content() == "def"  # tilde fence, highlighted
    assert md.locator("script, img").count() == 0
    assert md.locator("a").count() == 1  # the javascript: link stays text
    assert "<script>" in md.inner_text()
    assert page.evaluate("() => window.pwned === undefined")


def test_token_counts_follow_the_models_usage_and_tokens_per_second_says_what_it_is(page: Any) -> None:
    script = Script("Agent", ["Counter"])
    view = mount(page, script)
    script.turn("Counter", ["a", "b", "c", "d"], tokens=25)  # 4 chunks, the model counted 25 tokens
    script.end()
    play(page, view, script.ops())
    counter = panels(page)["Counter"]
    assert counter["figures"].startswith("25 tok")
    figures = script.view.view_state["panels"][0]
    assert counter["figures"].split(" · ")[1] == f"{25 / figures['el']:.1f} tok/s"
    assert "busy time" in counter["tooltip"] and "tokens_per_s" in counter["tooltip"]


def test_reasoning_is_a_folded_thinking_section_never_the_text(page: Any) -> None:
    script = Script("Agent", ["Thinker"])
    view = mount(page, script)
    script.emit(AgentStart, agent="Thinker")
    for index, piece in enumerate(["Let me ", "check the ", "units."]):
        script.emit(Chunk, agent="Thinker", content=piece, index=index, kind="reasoning")
    script.view.flush()
    play(page, view, script.ops())
    turn = panels(page)["Thinker"]["turns"][0]
    assert (turn["thinkShown"], turn["thinkOpen"], turn["think"]) == (True, False, "Let me check the units.")
    assert turn["raw"] == ""
    for index, piece in enumerate(["The answer ", "is 42."]):
        script.emit(Chunk, agent="Thinker", content=piece, index=3 + index)
    script.emit(AgentEnd, agent="Thinker", output="The answer is 42.")
    script.end()
    play(page, view, script.ops())
    thinker = panels(page)["Thinker"]
    assert thinker["raw"] == "The answer is 42." == script.view.texts["Thinker"]
    assert thinker["turns"][0]["think"] == "Let me check the units."


def test_a_page_that_missed_deltas_asks_once_and_ends_with_every_character(page: Any) -> None:
    script = Script("ConcurrentWorkflow", ["A", "B"])
    for name in "AB":
        script.emit(AgentStart, agent=name)
    words = {name: [f" {name.lower()}{i}" for i in range(300)] for name in "AB"}
    for burst in range(3):
        for i in range(burst * 100, burst * 100 + 100):
            for name in "AB":
                script.emit(Chunk, agent=name, content=words[name][i], index=i)
        script.view.flush()
    missed = script.ops()  # deltas 1-3: sent before this page existed
    assert len(missed) == 3
    view = mount(page, script)  # the widget's state as restored: no text while live
    for i in range(300, 320):
        script.emit(Chunk, agent="A", content=f" a{i}", index=i)
    script.view.flush()
    play(page, view, script.ops())  # delta 4: a gap
    hello = page.evaluate("(i) => harness.sent(i)", view)
    assert hello == [{"k": "hello", "seq": 0}]
    assert "Reconnected" in page.evaluate("(i) => harness.banner(i)", view)
    script.view.comm.from_frontend(hello[0])  # the kernel answers with a snapshot
    play(page, view, script.ops())
    assert panels(page)["A"]["raw"] == "".join(words["A"]) + "".join(f" a{i}" for i in range(300, 320))
    assert page.evaluate("(i) => harness.banner(i)", view) == ""
    for name in "AB":
        script.emit(AgentEnd, agent=name, output="")
    script.end()
    play(page, view, script.ops())
    assert {a: p["raw"] for a, p in panels(page).items()} == script.view.texts
    assert page.evaluate("(i) => harness.sent(i)", view) == hello  # asked once


def test_a_second_view_of_the_same_widget_starts_from_everything_received(page: Any) -> None:
    script = Script("Agent", ["Solo"])
    model = mount(page, script)
    script.turn("Solo", tokens(TURN_ONE))
    script.end()
    play(page, model, script.ops())
    page.evaluate("(i) => harness.view(i)", model)
    assert panels(page, 1)["Solo"]["raw"] == panels(page, 0)["Solo"]["raw"] == TURN_ONE
    assert "<table>" in panels(page, 1)["Solo"]["turns"][0]["md"]


FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def test_a_panel_follows_the_stream_until_scrolled_up_and_follow_resumes(page: Any) -> None:
    script = Script("Agent", ["Long"])
    view = mount(page, script)
    script.emit(AgentStart, agent="Long")
    scroller = page.locator(".nbswarm-scroll")

    def stream(lines: range) -> None:
        for i in lines:
            script.emit(Chunk, agent="Long", content=f"line {i}\n", index=i)
        script.view.flush()
        play(page, view, script.ops())
        page.evaluate(FRAME)

    at_bottom = "(el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2"
    stream(range(100))
    assert scroller.evaluate("(el) => el.scrollHeight > 2 * el.clientHeight")
    assert scroller.evaluate(at_bottom)
    stream(range(100, 200))
    assert scroller.evaluate(at_bottom)  # followed the new text
    scroller.evaluate("(el) => { el.scrollTop = 0; }")  # the reader scrolls up
    page.evaluate(FRAME)
    stream(range(200, 300))
    assert scroller.evaluate("(el) => el.scrollTop") == 0  # left where the reader is
    page.locator(".nbswarm-follow").click()
    assert scroller.evaluate(at_bottom)
    stream(range(300, 320))
    assert scroller.evaluate(at_bottom)


def test_error_messages_keep_their_line_breaks(page: Any) -> None:
    script = Script("Agent", ["Remote"])
    view = mount(page, script)
    script.emit(AgentStart, agent="Remote")
    message = "unknown agent 'Z' (at column 6)\n  A -> Z\n       ^"
    script.emit(Error, agent="Remote", error_type="StreamError", message=message)
    script.emit(AgentEnd, agent="Remote", output="", finish_reason="error")
    script.end()
    play(page, view, script.ops())
    remote = panels(page)["Remote"]
    assert remote["error"] == f"StreamError: {message}"
    assert remote["errorStyle"] == "pre-wrap"
