// nbswarm live view: one panel per agent of a run, updated from coalesced deltas.
//
// The kernel sends at most ~25 messages a second per view:
//   {k: "d", seq, x: {panelId: [[turn, newText], ...]}, r: {...reasoning, same form},
//    h: {panelId: [[turn, html], ...]}, p: [figures of changed panels], run, rows, layout}.
// A panel's text is its turns (the agent's loops) one after another: the engine sends the blank
// line between loops as the first chunk of the later turn. When a turn ends the
// kernel renders its markdown (markdown-it-py, raw HTML escaped) and sends the HTML in `h`; this
// file renders no markdown itself. Text is kept per *model* (a Store), not per view, so a view
// rendered late (a second display, a re-render) starts from everything received. A frontend
// that missed deltas (a page opened mid-run) sees a gap in seq and asks the kernel for a
// snapshot ("hello"); the final state, text included, arrives in the `view_state` trait.

const STORES = new Map(); // model uid -> Store (one per widget model in this page)

function turnOf(panel, number) {
  while (panel.turns.length <= number) panel.turns.push({ text: "", think: "", html: null });
  return panel.turns[number];
}

function panelFrom(p) {
  const turns = (p.turns || []).map((t) => ({ text: t.text || "", think: t.think || "", html: t.html || null }));
  return { ...p, turns };
}

export class Store {
  constructor(state) {
    this.listeners = new Set();
    this.refs = 0;
    this.asked = false;
    this.replace(state);
  }

  replace(state) {
    this.seq = state.seq || 0;
    this.closed = !!state.closed;
    this.layout = state.layout || "rows";
    this.run = state.run || {};
    this.rows = state.rows || [];
    this.panels = new Map();
    for (const p of state.panels || []) this.panels.set(p.id, panelFrom(p));
    this.gap = false;
    this.asked = false;
    this.stamp = performance.now();
    this.emit({ full: true });
  }

  delta(d, model) {
    if (d.seq <= this.seq) return; // already applied (another model of the same widget)
    if (d.seq !== this.seq + 1 && !this.closed) {
      this.gap = true; // some deltas never reached this page: ask for everything once
      if (!this.asked) {
        this.asked = true;
        model.send({ k: "hello", seq: this.seq });
      }
    }
    this.seq = d.seq;
    for (const p of d.p) {
      const panel = this.panels.get(p.id);
      if (panel) Object.assign(panel, p);
      else this.panels.set(p.id, { ...p, turns: [] });
    }
    this.apply(d.x, "text", true);
    this.apply(d.r, "think", true);
    this.apply(d.h, "html", false);
    this.run = d.run;
    if (d.rows) {
      this.rows = d.rows;
      this.layout = d.layout;
    }
    this.stamp = performance.now();
    this.emit({ delta: d });
  }

  apply(pieces, key, append) {
    for (const id in pieces || {}) {
      const panel = this.panels.get(Number(id));
      if (!panel) continue;
      for (const [number, value] of pieces[id]) {
        const turn = turnOf(panel, number);
        turn[key] = append ? turn[key] + value : value;
      }
    }
  }

  finish(state) {
    // The final state repeats text this page already has (same seq): take only the figures and
    // any rendering not seen yet, so a long run ends without rebuilding its panels.
    this.closed = true;
    const figures = [];
    const html = {};
    for (const { turns, ...rest } of state.panels || []) {
      figures.push(rest);
      const panel = this.panels.get(rest.id);
      (turns || []).forEach((t, number) => {
        if (t.html && panel && !(panel.turns[number] || {}).html) (html[rest.id] ||= []).push([number, t.html]);
      });
    }
    for (const p of figures) Object.assign(this.panels.get(p.id) || {}, p);
    this.apply(html, "html", false);
    this.run = state.run || this.run;
    this.emit({ delta: { x: {}, h: html, p: figures, run: this.run } });
  }

  text(id) {
    const panel = this.panels.get(id);
    return panel ? panel.turns.map((t) => t.text).join("") : ""; // a later turn starts with its separator
  }

  emit(change) {
    for (const listener of this.listeners) listener(change);
  }
}

function storeFor(model) {
  const uid = model.get("_uid");
  let store = STORES.get(uid);
  if (!store) {
    store = new Store(model.get("view_state") || {});
    STORES.set(uid, store);
  }
  return store;
}

function initialize({ model }) {
  const store = storeFor(model);
  store.refs += 1;
  const onMessage = (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.k === "d") store.delta(msg, model);
    else if (msg.k === "snap" && (store.gap || msg.state.seq > store.seq)) store.replace(msg.state);
  };
  const onState = () => {
    const state = model.get("view_state") || {};
    if ((state.seq || 0) > store.seq || (state.closed && store.gap)) store.replace(state);
    else if (state.closed && !store.closed) store.finish(state);
  };
  model.on("msg:custom", onMessage);
  model.on("change:view_state", onState);
  return () => {
    model.off("msg:custom", onMessage);
    model.off("change:view_state", onState);
    store.refs -= 1;
    if (store.refs <= 0) STORES.delete(model.get("_uid"));
  };
}

// -- rendering ----------------------------------------------------------------------------

const BLOCK = 4096;

// The raw text of a turn is a series of blocks that end at line breaks: appending re-lays out
// only the last block, so a frame costs the same at the end of a 100,000-token text as at its
// start. (A line break at the end of a pre-wrap block adds no line, so the blocks read as one.)
function appendText(t, into, text) {
  // t: where the last open block is kept ({block, blockLength}), per turn and per kind of text.
  let start = 0;
  while (start < text.length) {
    if (!t.block) {
      const div = h("div", "nbswarm-block");
      t.block = document.createTextNode("");
      t.blockLength = 0;
      div.append(t.block);
      into.append(div);
    }
    // This block ends at the first line break once it holds BLOCK characters.
    const from = start + Math.max(0, BLOCK - t.blockLength - 1);
    const cut = from < text.length ? text.indexOf("\n", from) : -1;
    const end = cut === -1 ? text.length : cut + 1;
    t.block.appendData(text.slice(start, end));
    t.blockLength += end - start;
    start = end;
    if (cut !== -1) t.block = null;
  }
}

const ICONS = { waiting: "○", streaming: "●", done: "✓", error: "✕", cancelled: "■" };

const TPS_TITLE =
  "tok/s: output tokens ÷ the agent's busy time (from its start to its end, the wait for the " +
  'first token included): the same figure as rec.metrics()["tokens_per_s"]';

function h(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 10 ? value.toFixed(2) + " s" : value.toFixed(1) + " s";
}

function dollars(value) {
  if (!value) return "$0";
  return value < 0.01 ? "$" + value.toPrecision(2) : "$" + value.toFixed(3);
}

export function figures(p, extra = 0) {
  const el = p.el === null || p.el === undefined ? null : p.el + extra;
  const tps = el && p.n ? p.n / el : null; // one definition: tokens / busy time (see TPS_TITLE)
  return [
    `${p.n} tok`,
    tps === null ? "– tok/s" : `${tps.toFixed(1)} tok/s`,
    `TTFT ${seconds(p.ttft)}`,
    seconds(el),
    !p.cost && (p.status === "streaming" || p.status === "waiting") ? "$–" : dollars(p.cost),
  ].join(" · ");
}

class View {
  constructor(model, el, store) {
    this.model = model;
    this.store = store;
    this.el = el;
    this.panels = new Map(); // id -> elements of one panel
    this.root = h("div", "nbswarm");
    this.header = h("div", "nbswarm-header");
    this.title = h("span", "nbswarm-title");
    this.kind = h("span", "nbswarm-kind");
    this.runStatus = h("span", "nbswarm-run-status");
    this.runFigures = h("span", "nbswarm-figures");
    this.header.append(this.title, this.kind, this.runStatus, this.runFigures);
    this.banner = h("div", "nbswarm-banner");
    this.errors = h("div", "nbswarm-errors");
    this.body = h("div", "nbswarm-body");
    this.root.append(this.header, this.banner, this.errors, this.body);
    el.append(this.root);
    this.applyOptions();
    this.full();
    this.listener = (change) => (change.full ? this.full() : this.delta(change.delta));
    store.listeners.add(this.listener);
    this.timer = setInterval(() => this.tick(), 250);
  }

  dispose() {
    this.store.listeners.delete(this.listener);
    clearInterval(this.timer);
  }

  applyOptions() {
    this.root.style.setProperty("--nbswarm-max-height", `${this.model.get("max_height")}px`);
    const wanted = !!this.model.get("markdown");
    for (const p of this.panels.values()) this.showMarkdown(p, wanted);
  }

  full() {
    const s = this.store;
    this.body.replaceChildren();
    this.panels.clear();
    this.layoutRows();
    for (const panel of s.panels.values()) {
      const p = this.panelEl(panel.id);
      panel.turns.forEach((_, number) => this.syncTurn(p, panel, number));
      this.update(p, panel);
      this.scroll(p);
    }
    this.updateRun();
  }

  delta(d) {
    if (d.rows && JSON.stringify(d.rows) !== this.rowsKey) this.layoutRows();
    const touched = new Map(); // panel id -> Set of turn numbers
    for (const pieces of [d.x, d.r, d.h]) {
      for (const id in pieces || {}) {
        if (!touched.has(Number(id))) touched.set(Number(id), new Set());
        for (const [number] of pieces[id]) touched.get(Number(id)).add(number);
      }
    }
    for (const [id, numbers] of touched) {
      const panel = this.store.panels.get(id);
      if (!panel) continue;
      const p = this.panelEl(id);
      for (const number of numbers) this.syncTurn(p, panel, number, d);
      this.scroll(p);
    }
    for (const fig of d.p) this.update(this.panelEl(fig.id), this.store.panels.get(fig.id));
    this.updateRun();
  }

  // Bring one turn's elements up to the store: append the text and reasoning not shown yet, set
  // the rendered HTML once it arrives. `d` (a delta) lets an append use the piece it carried
  // instead of slicing the whole text (which would flatten it: quadratic over a long stream).
  syncTurn(p, panel, number, d) {
    const turn = panel.turns[number];
    if (!turn) return;
    const t = this.turnEl(p, number);
    const piece = (pieces) => {
      const list = d && pieces && pieces[panel.id];
      if (!list) return null;
      let out = null;
      for (const [n, value] of list) if (n === number) out = out === null ? value : out + value;
      return out;
    };
    if (turn.text.length > t.shown) {
      const fresh = piece(d && d.x);
      const more = fresh !== null && t.shown + fresh.length === turn.text.length;
      appendText(t, t.raw, more ? fresh : turn.text.slice(t.shown));
      t.shown = turn.text.length;
    }
    if (turn.think.length > t.thinkShown) {
      const fresh = piece(d && d.r);
      const more = fresh !== null && t.thinkShown + fresh.length === turn.think.length;
      appendText(t.thinkCursor, t.thinkText, more ? fresh : turn.think.slice(t.thinkShown));
      t.thinkShown = turn.think.length;
      t.thinking.hidden = false;
    }
    if (turn.html && !t.hasHtml) {
      t.md.innerHTML = turn.html; // rendered by the kernel with raw HTML escaped
      t.hasHtml = true;
      t.root.classList.add("nbswarm-has-md");
      p.mdButton.hidden = false;
    }
  }

  layoutRows() {
    const s = this.store;
    this.rowsKey = JSON.stringify(s.rows);
    this.root.dataset.layout = s.layout;
    const rows = [];
    for (const ids of s.rows) {
      const row = h("div", "nbswarm-row");
      for (const id of ids) row.append(this.panelEl(id).root);
      rows.push(row);
    }
    this.body.replaceChildren(...rows);
  }

  panelEl(id) {
    let p = this.panels.get(id);
    if (p) return p;
    const panel = this.store.panels.get(id) || { agent: "?", color: "#888" };
    p = { id, turns: [], stick: true, autoTop: -1, mdWanted: !!this.model.get("markdown") };
    p.root = h("div", "nbswarm-panel");
    p.root.dataset.agent = panel.agent;
    p.root.dataset.panelId = String(id);
    p.root.style.setProperty("--agent-color", panel.color);
    const top = h("div", "nbswarm-panel-top");
    p.icon = h("span", "nbswarm-icon");
    p.name = h("span", "nbswarm-name", panel.agent);
    p.status = h("span", "nbswarm-status");
    const tools = h("span", "nbswarm-tools");
    p.mdButton = h("button", "nbswarm-button nbswarm-md-toggle");
    p.mdButton.title = "Show the raw text / the rendered markdown";
    p.mdButton.hidden = true;
    p.mdButton.onclick = () => this.showMarkdown(p, !p.mdWanted);
    p.copyButton = h("button", "nbswarm-button nbswarm-copy", "copy");
    p.copyButton.title = "Copy this agent's text";
    p.copyButton.onclick = () => this.copy(p);
    tools.append(p.mdButton, p.copyButton);
    top.append(p.icon, p.name, p.status, tools);
    p.figures = h("div", "nbswarm-figures");
    p.figures.title = TPS_TITLE;
    p.error = h("div", "nbswarm-error");
    p.scroller = h("div", "nbswarm-scroll");
    p.follow = h("button", "nbswarm-button nbswarm-follow", "↓ follow");
    p.follow.onclick = () => {
      p.stick = true;
      this.scroll(p);
    };
    p.scroller.addEventListener("scroll", () => {
      const el = p.scroller;
      if (Math.abs(el.scrollTop - p.autoTop) < 2) return; // our own scroll, not the user's
      p.stick = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      p.root.classList.toggle("nbswarm-unstuck", !p.stick);
    });
    p.root.append(top, p.figures, p.error, p.scroller, p.follow);
    this.panels.set(id, p);
    this.showMarkdown(p, p.mdWanted);
    return p;
  }

  // One turn (one loop of the agent): folded reasoning, the raw text, and its rendered markdown
  // once the turn has ended. Rendered turns show their HTML; the streaming turn shows its text.
  turnEl(p, number) {
    while (p.turns.length <= number) {
      const t = { shown: 0, thinkShown: 0, hasHtml: false, block: null, blockLength: 0 };
      t.thinkCursor = { block: null, blockLength: 0 };
      t.root = h("div", "nbswarm-turn");
      t.root.dataset.turn = String(p.turns.length);
      t.thinking = h("details", "nbswarm-thinking");
      t.thinking.hidden = true;
      t.thinking.append(h("summary", "", "thinking"));
      t.thinkText = h("div", "nbswarm-think-text");
      t.thinking.append(t.thinkText);
      t.raw = h("div", "nbswarm-text"); // not <pre>: the notebook styles those
      t.md = h("div", "nbswarm-md");
      t.root.append(t.thinking, t.raw, t.md);
      p.scroller.append(t.root);
      p.turns.push(t);
    }
    return p.turns[number];
  }

  scroll(p) {
    if (!p.stick) return;
    const el = p.scroller;
    el.scrollTop = el.scrollHeight;
    p.autoTop = el.scrollTop;
    p.root.classList.remove("nbswarm-unstuck");
  }

  update(p, panel, extra = 0) {
    if (!panel) return;
    if (p.root.dataset.agent !== panel.agent) {
      // Created before its figures arrived (a page that missed the start of the run).
      p.root.dataset.agent = panel.agent;
      p.name.textContent = panel.agent;
      p.root.style.setProperty("--agent-color", panel.color);
    }
    p.root.dataset.status = panel.status;
    p.icon.textContent = ICONS[panel.status] || "•";
    p.status.textContent = panel.status;
    p.figures.textContent = figures(panel, extra);
    p.error.textContent = panel.err || "";
    p.error.hidden = !panel.err;
  }

  showMarkdown(p, on) {
    p.mdWanted = on;
    p.root.classList.toggle("nbswarm-rendered", on);
    p.mdButton.textContent = on ? "raw" : "markdown";
    this.scroll(p);
  }

  copy(p) {
    const text = this.store.text(p.id);
    const done = () => {
      p.copyButton.textContent = "copied";
      setTimeout(() => (p.copyButton.textContent = "copy"), 1200);
    };
    const fallback = () => {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      try {
        document.execCommand("copy");
      } finally {
        area.remove();
      }
      done();
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  updateRun(extra = 0) {
    const s = this.store;
    const run = s.run || {};
    this.root.dataset.runStatus = run.status || "";
    this.root.dataset.runId = run.id || "";
    this.title.textContent = run.title || "";
    this.kind.textContent = run.type && run.type !== run.title ? run.type : "";
    this.runStatus.textContent = run.status || "";
    const el = run.el === null || run.el === undefined ? null : run.el + extra;
    this.runFigures.textContent = `${run.n || 0} tok · ${seconds(el)} · ${dollars(run.cost)}`;
    const errors = run.errors || [];
    this.errors.textContent = errors.join("\n");
    this.errors.hidden = errors.length === 0;
    this.banner.textContent = s.gap
      ? "Reconnected mid-run: earlier text appears when the kernel is free."
      : "";
    this.banner.hidden = !s.gap;
  }

  tick() {
    // Between deltas (e.g. waiting for a first token) the clocks still move.
    const s = this.store;
    if (s.closed || (s.run && s.run.status !== "running")) return;
    const extra = (performance.now() - s.stamp) / 1000;
    if (extra < 0.2) return;
    for (const [id, p] of this.panels) {
      const panel = s.panels.get(id);
      if (panel && panel.status === "streaming") this.update(p, panel, extra);
    }
    this.updateRun(extra);
  }
}

function render({ model, el }) {
  const store = storeFor(model);
  const view = new View(model, el, store);
  const onOptions = () => view.applyOptions();
  model.on("change:markdown", onOptions);
  model.on("change:max_height", onOptions);
  return () => {
    model.off("change:markdown", onOptions);
    model.off("change:max_height", onOptions);
    view.dispose();
  };
}

export default { initialize, render };
