// nbswarm live view: one panel per agent of a run, updated from coalesced deltas.
//
// The kernel sends at most ~25 messages a second per view:
//   {k: "d", seq, x: {panelId: newText}, p: [figures of changed panels], run, rows, layout}.
// Text is kept per *model* (a Store), not per view, so a view rendered late (a second display,
// a re-render) starts from everything received. A frontend that missed deltas (a page opened
// mid-run) sees a gap in seq and asks the kernel for a snapshot ("hello"); the final state,
// text included, arrives in the `view_state` trait.

const STORES = new Map(); // model uid -> Store (one per widget model in this page)

class Store {
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
    for (const p of state.panels || []) this.panels.set(p.id, { ...p, text: p.text || "" });
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
      else this.panels.set(p.id, { ...p, text: "" });
    }
    for (const id in d.x) {
      const panel = this.panels.get(Number(id));
      if (panel) panel.text += d.x[id];
    }
    this.run = d.run;
    if (d.rows) {
      this.rows = d.rows;
      this.layout = d.layout;
    }
    this.stamp = performance.now();
    this.emit({ delta: d });
  }

  finish(state) {
    // The final state repeats text this page already has (same seq): take only the figures,
    // so a long run ends without rebuilding its panels.
    this.closed = true;
    const figures = (state.panels || []).map(({ text, ...rest }) => rest);
    for (const p of figures) Object.assign(this.panels.get(p.id) || {}, p);
    this.run = state.run || this.run;
    this.emit({ delta: { x: {}, p: figures, run: this.run } });
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

// The raw text is a series of blocks that end at line breaks: appending re-lays out only the
// last block, so a frame costs the same at the end of a 100,000-token text as at its start.
// (A line break at the end of a pre-wrap block adds no line, so the blocks read as one text.)
function appendText(p, text) {
  let start = 0;
  while (start < text.length) {
    if (!p.block) {
      const div = h("div", "nbswarm-block");
      p.block = document.createTextNode("");
      p.blockLength = 0;
      div.append(p.block);
      p.raw.append(div);
    }
    // This block ends at the first line break once it holds BLOCK characters.
    const from = start + Math.max(0, BLOCK - p.blockLength - 1);
    const cut = from < text.length ? text.indexOf("\n", from) : -1;
    const end = cut === -1 ? text.length : cut + 1;
    p.block.appendData(text.slice(start, end));
    p.blockLength += end - start;
    start = end;
    if (cut !== -1) p.block = null;
  }
}

const ICONS = { waiting: "○", streaming: "●", done: "✓", error: "✕", cancelled: "■" };

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

function figures(p, extra) {
  const parts = [`${p.n} tok`];
  parts.push(p.tps === null || p.tps === undefined ? "– tok/s" : `${p.tps.toFixed(1)} tok/s`);
  parts.push(`TTFT ${seconds(p.ttft)}`);
  parts.push(seconds(p.el === null || p.el === undefined ? null : p.el + extra));
  parts.push(!p.cost && (p.status === "streaming" || p.status === "waiting") ? "$–" : dollars(p.cost));
  return parts.join(" · ");
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
    for (const p of this.panels.values()) {
      const panel = this.store.panels.get(p.id);
      if (panel && panel.status === "done") this.showMarkdown(p, wanted);
    }
  }

  full() {
    const s = this.store;
    this.body.replaceChildren();
    this.panels.clear();
    this.layoutRows();
    for (const panel of s.panels.values()) {
      const p = this.panelEl(panel.id);
      appendText(p, panel.text);
      p.shown = panel.text.length;
      this.update(p, panel);
      this.scroll(p);
    }
    this.updateRun();
  }

  delta(d) {
    if (d.rows && JSON.stringify(d.rows) !== this.rowsKey) this.layoutRows();
    for (const id in d.x) {
      const p = this.panelEl(Number(id));
      const panel = this.store.panels.get(Number(id));
      // Append only what this view has not shown (it may have been built from the store already).
      if (panel && panel.text.length > p.shown) {
        const piece = d.x[id];
        const fits = p.shown + piece.length === panel.text.length;
        appendText(p, fits ? piece : panel.text.slice(p.shown));
        p.shown = panel.text.length;
        this.scroll(p);
      }
    }
    for (const fig of d.p) this.update(this.panelEl(fig.id), this.store.panels.get(fig.id));
    this.updateRun();
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
    p = { id, shown: 0, stick: true, autoTop: -1, mdWanted: false, mdDone: false };
    p.root = h("div", "nbswarm-panel");
    p.root.dataset.agent = panel.agent;
    p.root.dataset.panelId = String(id);
    p.root.style.setProperty("--agent-color", panel.color);
    const top = h("div", "nbswarm-panel-top");
    p.icon = h("span", "nbswarm-icon");
    p.name = h("span", "nbswarm-name", panel.agent);
    p.status = h("span", "nbswarm-status");
    const tools = h("span", "nbswarm-tools");
    p.mdButton = h("button", "nbswarm-button nbswarm-md-toggle", "raw");
    p.mdButton.title = "Show the raw text / the rendered markdown";
    p.mdButton.onclick = () => this.showMarkdown(p, !p.mdWanted);
    p.copyButton = h("button", "nbswarm-button nbswarm-copy", "copy");
    p.copyButton.title = "Copy this agent's text";
    p.copyButton.onclick = () => this.copy(p);
    tools.append(p.mdButton, p.copyButton);
    top.append(p.icon, p.name, p.status, tools);
    p.figures = h("div", "nbswarm-figures");
    p.error = h("div", "nbswarm-error");
    p.scroller = h("div", "nbswarm-scroll");
    p.raw = h("div", "nbswarm-text"); // not <pre>: the notebook styles those
    p.block = null;
    p.blockLength = 0;
    p.md = h("div", "nbswarm-md");
    p.scroller.append(p.raw, p.md);
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
    return p;
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
    const finished = panel.status === "done";
    p.mdButton.hidden = !finished;
    if (finished && !p.mdDone && this.model.get("markdown")) this.scheduleMarkdown(p);
  }

  scheduleMarkdown(p) {
    // After the next paint: the last token shows first, the (slower) markdown swap follows.
    if (p.mdPending) return;
    p.mdPending = true;
    requestAnimationFrame(() =>
      setTimeout(() => {
        p.mdPending = false;
        if (!p.mdDone && this.model.get("markdown")) this.showMarkdown(p, true);
      }, 0),
    );
  }

  showMarkdown(p, on) {
    const panel = this.store.panels.get(p.id);
    if (on && panel && (!p.mdDone || p.mdLength !== panel.text.length)) {
      p.md.innerHTML = markdown(panel.text);
      p.mdLength = panel.text.length;
    }
    p.mdDone = p.mdDone || on;
    p.mdWanted = on;
    p.root.classList.toggle("nbswarm-rendered", on);
    p.mdButton.textContent = on ? "raw" : "markdown";
    this.scroll(p);
  }

  copy(p) {
    const panel = this.store.panels.get(p.id);
    const text = panel ? panel.text : "";
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

// -- a small, safe markdown renderer (text is escaped first; links only http(s)) -----------

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function inline(text) {
  const codes = [];
  let out = escapeHtml(text).replace(/`([^`]+)`/g, (_, code) => {
    codes.push(code);
    return `\u0000${codes.length - 1}\u0000`;
  });
  out = out
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/__([^_]+)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>');
  return out.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[Number(i)]}</code>`);
}

export function markdown(text) {
  const lines = text.split("\n");
  const html = [];
  let paragraph = [];
  let list = null; // "ul" | "ol"
  const endParagraph = () => {
    if (paragraph.length) html.push(`<p>${paragraph.map(inline).join("<br>")}</p>`);
    paragraph = [];
  };
  const endList = () => {
    if (list) html.push(`</${list}>`);
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if (/^\s*```/.test(line)) {
      endParagraph();
      endList();
      const code = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
      html.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
    } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      endParagraph();
      endList();
      html.push(`<h${m[1].length}>${inline(m[2])}</h${m[1].length}>`);
    } else if ((m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
      endParagraph();
      const kind = /\d/.test(m[1]) ? "ol" : "ul";
      if (list !== kind) {
        endList();
        html.push(`<${kind}>`);
        list = kind;
      }
      html.push(`<li>${inline(m[2])}</li>`);
    } else if ((m = /^>\s?(.*)$/.exec(line))) {
      endParagraph();
      endList();
      html.push(`<blockquote>${inline(m[1])}</blockquote>`);
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      endParagraph();
      endList();
      html.push("<hr>");
    } else if (!line.trim()) {
      endParagraph();
      endList();
    } else {
      endList();
      paragraph.push(line);
    }
  }
  endParagraph();
  endList();
  return html.join("");
}

export default { initialize, render };
