// The web view of vpcflow-digesterd (GET /ui/): one page over the HTTP API. Every number it
// shows comes from a query of the API (format=json); the address carries start, stop and filter.
import cytoscape from "cytoscape";

type Row = {
  srcaddr: string | null; dstaddr: string | null; srcport: number | null;
  dstport: number | null; protocol: number | null; action: string | null;
  packets: number; bytes: number; flows: number | null;
  change?: string; base_bytes?: number;
};
type Part = { rows: number; packets: number; bytes: number };
type Totals = {
  rows: number; packets: number; bytes: number; flows: number | null;
  by_action: Record<string, Part>;
};
type Answer = { rows: Row[]; totals: Totals; result_rows: number; cut: Part };

const TOKEN_KEY = "vpcflow-api-token";
const $ = (id: string) => document.getElementById(id) as HTMLElement;
const input = (id: string) => document.getElementById(id) as HTMLInputElement;

class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

// --- the API ------------------------------------------------------------------------------

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set("Authorization", "Bearer " + token);
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) {
    askToken();
    throw new ApiError(401, "the API needs a token: enter it with \"API token\" above");
  }
  if (!response.ok && response.status !== 204) {
    let message = response.status + " " + response.statusText;
    try {
      const body = await response.json();
      if (body && body.message) message = body.message;
    } catch { /* not JSON */ }
    throw new ApiError(response.status, message);
  }
  return response;
}

async function apiJson<T>(path: string): Promise<T> {
  return (await api(path)).json() as Promise<T>;
}

// A query string; spaces as %20 (the service reads '+' as '+', not as a space).
function query(params: Record<string, string | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v as string))
    .join("&");
}

// --- the window and the filter --------------------------------------------------------------

// A datetime-local value read as UTC, and back.
function fromLocalInput(value: string): Date | null {
  if (!value) return null;
  const d = new Date(value + (value.length === 16 ? ":00Z" : "Z"));
  return isNaN(d.getTime()) ? null : d;
}
function toLocalInput(d: Date): string { return d.toISOString().slice(0, 16); }
function rfc3339(d: Date): string { return d.toISOString().replace(".000Z", "Z"); }

type View = { start: Date; stop: Date; filter: string };

function readView(): View | null {
  const start = fromLocalInput(input("start").value);
  const stop = fromLocalInput(input("stop").value);
  if (!start || !stop) return null;
  return { start, stop, filter: input("filter").value.trim() };
}

function windowParams(v: View) { return { start: rfc3339(v.start), stop: rfc3339(v.stop) }; }

function and(a: string, b: string): string { return a ? "(" + a + ") and " + b : b; }

function preset(name: string) {
  const hour = 3600e3;
  const now = Date.now();
  let start: number, stop: number;
  if (name === "hour") {
    stop = Math.floor(now / hour) * hour;
    start = stop - hour;
  } else if (name === "day") {
    stop = Math.floor(now / hour) * hour;
    start = stop - 24 * hour;
  } else {
    stop = Math.floor(now / (24 * hour)) * 24 * hour;
    start = stop - 24 * hour;
  }
  input("start").value = toLocalInput(new Date(start));
  input("stop").value = toLocalInput(new Date(stop));
}

// --- messages -----------------------------------------------------------------------------

function say(text: string, kind: "error" | "info" = "info") {
  const m = $("message");
  m.textContent = text;
  m.className = kind;
}
function quiet() { $("message").className = "hidden"; }
function fail(e: unknown) {
  say(e instanceof Error ? e.message : String(e), "error");
}

function askToken() {
  const dialog = $("tokenDialog") as HTMLDialogElement;
  if (!dialog.open) dialog.showModal();
}

// --- formatting ---------------------------------------------------------------------------

const PROTOCOLS: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6" };
function proto(p: number | null): string {
  return p === null ? "-" : PROTOCOLS[p] ?? String(p);
}
function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
}
function count(n: number | null): string { return n === null ? "-" : n.toLocaleString("en-US"); }

function el(tag: string, text?: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

type Column = {
  head: string; cell: (r: Row) => string; cls?: string;
  /// The value the column sorts by: numbers numerically, text in natural order ("10.0.0.9"
  /// before "10.0.0.10"). Default: the cell's text.
  key?: (r: Row) => number | string;
  /// The class of a cell from its row (default `cls`).
  cellCls?: (r: Row) => string;
};

function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

// A table of rows in the answer's order; clicking a header sorts by that column (ascending,
// then descending on each further click; the header shows which, also as aria-sort); clicking
// a row sets the filter `pick(row)`.
function table(target: string, rows: Row[], columns: Column[], pick?: (r: Row) => string) {
  const box = $(target);
  box.replaceChildren();
  if (rows.length === 0) {
    box.append(el("p", "No rows.", "empty"));
    return;
  }
  const t = el("table");
  const thead = el("thead");
  const tbody = el("tbody");
  const head = el("tr");
  let sorted: { column: number; dir: 1 | -1 } | null = null;
  const fill = () => {
    let order = rows;
    if (sorted) {
      const c = columns[sorted.column];
      const key = c.key ?? c.cell;
      const dir = sorted.dir;
      // Array.prototype.sort is stable: ties keep the answer's order.
      order = [...rows].sort((a, b) => dir * compareKeys(key(a), key(b)));
    }
    tbody.replaceChildren();
    for (const r of order) {
      const tr = el("tr");
      for (const c of columns) tr.append(el("td", c.cell(r), c.cellCls ? c.cellCls(r) : c.cls));
      if (pick) {
        tr.className = "pick";
        tr.tabIndex = 0;
        tr.title = "Filter to " + pick(r);
        const go = () => setFilter(pick(r));
        tr.addEventListener("click", go);
        tr.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
      }
      tbody.append(tr);
    }
    head.childNodes.forEach((node, i) => {
      const th = node as HTMLElement;
      const dir = sorted && sorted.column === i ? sorted.dir : 0;
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : dir === -1 ? "descending" : "none");
      (th.lastElementChild as HTMLElement).textContent = dir === 1 ? "\u25b2" : dir === -1 ? "\u25bc" : "";
    });
  };
  columns.forEach((c, i) => {
    const th = el("th", c.head, ((c.cls ?? "") + " sortable").trim());
    th.append(el("span", "", "sort"));
    th.tabIndex = 0;
    th.title = "Sort by " + c.head;
    const sort = () => {
      sorted = sorted && sorted.column === i ? { column: i, dir: sorted.dir === 1 ? -1 : 1 }
                                            : { column: i, dir: 1 };
      fill();
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter") sort(); });
    head.append(th);
  });
  thead.append(head);
  t.append(thead, tbody);
  fill();
  box.append(t);
}

const SRC: Column = { head: "Source", cell: (r) => r.srcaddr ?? "-", cls: "addr" };
const DST: Column = { head: "Destination", cell: (r) => r.dstaddr ?? "-", cls: "addr" };
const PORT: Column = {
  head: "Port", cell: (r) => (r.dstport ?? "-") + "/" + proto(r.protocol),
  key: (r) => (r.dstport ?? -1) * 256 + (r.protocol ?? 0),
};
const BYTES: Column = { head: "Bytes", cell: (r) => bytes(r.bytes), cls: "n", key: (r) => r.bytes };
const PACKETS: Column = {
  head: "Packets", cell: (r) => count(r.packets), cls: "n", key: (r) => r.packets,
};

// --- the view -----------------------------------------------------------------------------

let current: View | null = null;
let pollTimer: number | undefined;
let graph: cytoscape.Core | null = null;

function setFilter(expr: string) {
  input("filter").value = expr;
  show();
}

function updateAddress(v: View) {
  const url = "?" + query({ ...windowParams(v), filter: v.filter });
  history.replaceState(null, "", url);
  $("windowTitle").textContent = rfc3339(v.start) + " .. " + rfc3339(v.stop);
}

async function show() {
  const v = readView();
  if (!v) { say("Choose a start and a stop (UTC).", "error"); return; }
  current = v;
  updateAddress(v);
  window.clearTimeout(pollTimer);
  quiet();
  try {
    await watch(v);
  } catch (e) {
    fail(e);
  }
}

type Status = {
  state: string; error: unknown;
  progress: { objects_done: number; objects_total: number } | null;
};

// Shows the digest's state; renders it when done, polls while it is made.
async function watch(v: View) {
  const status = await apiJson<Status>("/status?" + query(windowParams(v)));
  if (v !== current) return;
  const panel = $("progressPanel");
  const progress = $("progress") as HTMLProgressElement;
  const requestButton = $("request");
  if (status.state === "done") {
    panel.classList.add("hidden");
    await render(v);
    return;
  }
  $("results").classList.add("hidden");
  panel.classList.remove("hidden");
  requestButton.classList.toggle("hidden", status.state === "queued" || status.state === "running");
  if (status.state === "queued" || status.state === "running") {
    const p = status.progress;
    $("stateText").textContent = "The digest is " + status.state +
      (p ? ": " + p.objects_done + " of " + p.objects_total + " objects read" : "") + ".";
    progress.value = p && p.objects_total > 0 ? p.objects_done / p.objects_total : 0;
    progress.classList.remove("hidden");
    pollTimer = window.setTimeout(() => watch(v).catch(fail), 1000);
    return;
  }
  progress.classList.add("hidden");
  $("stateText").textContent = status.state === "failed"
    ? "The last attempt to make this digest failed: " + JSON.stringify(status.error)
    : "There is no digest of this window yet.";
}

async function requestDigest() {
  const v = current;
  if (!v) return;
  try {
    await api("/?" + query(windowParams(v)), { method: "POST" });
    say("Digest requested.");
    await watch(v);
  } catch (e) {
    fail(e);
  }
}

function q(v: View, extra: Record<string, string>): string {
  return "/?" + query({ ...windowParams(v), format: "json", ...extra });
}

async function render(v: View) {
  // One after the other: the service answers a few queries at once per process (503 beyond).
  const all = await apiJson<Answer>(q(v, { filter: v.filter, top: "1" }));
  const talkers = await apiJson<Answer>(q(v, { filter: v.filter, group_by: "srcaddr,dstaddr", top: "10" }));
  const rejected = await apiJson<Answer>(q(v, {
    filter: and(v.filter, "action=REJECT"), group_by: "srcaddr,dstaddr,dstport,protocol", top: "10",
  }));
  const ports = await apiJson<Answer>(q(v, { filter: v.filter, group_by: "dstport,protocol", top: "10" }));
  const edges = await apiJson<Answer>(q(v, {
    filter: v.filter, group_by: "srcaddr,dstaddr,action", top: "150",
  }));
  if (v !== current) return;
  $("results").classList.remove("hidden");
  renderTotals(v, all.totals);
  table("talkers", talkers.rows, [SRC, DST, BYTES, PACKETS],
        (r) => "srcaddr=" + r.srcaddr + " and dstaddr=" + r.dstaddr);
  table("rejected", rejected.rows, [SRC, DST, PORT, BYTES, PACKETS],
        (r) => "srcaddr=" + r.srcaddr + " and action=REJECT");
  table("ports", ports.rows, [PORT, BYTES, PACKETS],
        (r) => "dstport=" + r.dstport + " and protocol=" + proto(r.protocol));
  $("diff").replaceChildren();
  renderGraph(edges);
  renderDownloads(v);
}

function renderTotals(v: View, t: Totals) {
  const box = $("totals");
  box.replaceChildren();
  const stat = (k: string, value: string, cls = "") => {
    const s = el("div", undefined, "stat " + cls);
    s.dataset.stat = k;
    s.append(el("div", value, "v"), el("div", k, "k"));
    box.append(s);
  };
  const part = (a: string) => t.by_action[a] ?? { rows: 0, packets: 0, bytes: 0 };
  stat("rows", count(t.rows));
  stat("bytes", bytes(t.bytes));
  stat("packets", count(t.packets));
  stat("flows", count(t.flows));
  stat("accepted bytes", bytes(part("ACCEPT").bytes), "accept");
  stat("rejected bytes", bytes(part("REJECT").bytes), "reject");
  stat("rejected rows", count(part("REJECT").rows), "reject");
  const shown = $("filterShown");
  shown.replaceChildren();
  if (v.filter) shown.append("where ", el("code", v.filter, "expr"));
  box.dataset.bytes = String(t.bytes);
  box.dataset.rows = String(t.rows);
}

function renderGraph(a: Answer) {
  type Pair = { src: string; dst: string; bytes: number; actions: Set<string> };
  const pairs = new Map<string, Pair>();
  const nodes = new Map<string, number>();
  for (const r of a.rows) {
    if (!r.srcaddr || !r.dstaddr) continue;
    const key = r.srcaddr + " " + r.dstaddr;
    const p = pairs.get(key) ?? { src: r.srcaddr, dst: r.dstaddr, bytes: 0, actions: new Set() };
    p.bytes += r.bytes;
    p.actions.add(r.action ?? "-");
    pairs.set(key, p);
    nodes.set(r.srcaddr, (nodes.get(r.srcaddr) ?? 0) + r.bytes);
    nodes.set(r.dstaddr, (nodes.get(r.dstaddr) ?? 0) + r.bytes);
  }
  const log = (n: number) => Math.log10(n + 1);
  const elements: cytoscape.ElementDefinition[] = [];
  for (const [addr, b] of nodes) {
    elements.push({ data: { id: addr, label: addr, size: 14 + 4 * log(b) } });
  }
  let i = 0;
  for (const p of pairs.values()) {
    const colour = p.actions.size > 1 ? "#b26a00" : p.actions.has("REJECT") ? "#c62828" : "#1f8a4c";
    elements.push({
      data: {
        id: "e" + i++, source: p.src, target: p.dst, width: 1 + log(p.bytes) / 1.5, colour,
        label: bytes(p.bytes),
      },
    });
  }
  $("graphNote").textContent = a.cut.rows > 0
    ? "showing the " + a.rows.length + " largest of " + (a.rows.length + a.cut.rows) + " edges"
    : "";
  graph?.destroy();
  graph = cytoscape({
    container: $("graph"),
    elements,
    wheelSensitivity: 0.3,
    layout: { name: "cose", animate: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 90 },
    style: [
      {
        selector: "node",
        style: {
          label: "data(label)", width: "data(size)", height: "data(size)",
          "background-color": "#3b5b86", "font-size": 10, color: "#1c2430",
          "text-valign": "bottom", "text-margin-y": 3,
        },
      },
      {
        selector: "edge",
        style: {
          width: "data(width)", "line-color": "data(colour)", "target-arrow-color": "data(colour)",
          "target-arrow-shape": "triangle", "curve-style": "bezier", opacity: 0.8,
        },
      },
      { selector: "edge:selected, edge.hover", style: { label: "data(label)", "font-size": 9 } },
    ],
  });
  graph.on("tap", "node", (e) => setFilter("addr=" + e.target.id()));
  graph.on("tap", "edge", (e) => {
    const d = e.target.data();
    setFilter("srcaddr=" + d.source + " and dstaddr=" + d.target);
  });
  graph.on("mouseover", "edge", (e) => e.target.addClass("hover"));
  graph.on("mouseout", "edge", (e) => e.target.removeClass("hover"));
  (window as unknown as { vpcflowGraph: cytoscape.Core }).vpcflowGraph = graph;
}

async function renderDiff() {
  const v = current;
  if (!v) return;
  const length = v.stop.getTime() - v.start.getTime();
  const base = { base_start: rfc3339(new Date(v.start.getTime() - length)),
                 base_stop: rfc3339(v.start) };
  const box = $("diff");
  box.replaceChildren(el("p", "Comparing with " + base.base_start + " .. " + base.base_stop + "...",
                         "empty"));
  try {
    const a = await apiJson<Answer>("/diff?" + query({
      ...base, ...windowParams(v), filter: v.filter, group_by: "srcaddr,dstaddr,dstport,protocol",
      format: "json", top: "15",
    }));
    table("diff", a.rows, [
      { head: "Change", cell: (r) => r.change ?? "", cellCls: (r) => "chg-" + (r.change ?? "") },
      SRC, DST, PORT,
      { head: "Before", cell: (r) => bytes(r.base_bytes ?? 0), cls: "n",
        key: (r) => r.base_bytes ?? 0 },
      { head: "Now", cell: (r) => bytes(r.bytes), cls: "n", key: (r) => r.bytes },
    ]);
  } catch (e) {
    box.replaceChildren(el("p", e instanceof Error ? e.message : String(e), "empty"));
    if (e instanceof ApiError && e.status === 404) {
      const b = el("button", "Request the previous window's digest") as HTMLButtonElement;
      b.type = "button";
      b.addEventListener("click", async () => {
        try {
          await api("/?" + query({ start: base.base_start, stop: base.base_stop }), { method: "POST" });
          say("Digest of the previous window requested; compare again once it is done.");
        } catch (err) { fail(err); }
      });
      box.append(b);
    }
  }
}

function renderDownloads(v: View) {
  const box = $("downloads");
  box.replaceChildren();
  const formats: [string, string, string][] = [
    ["digest (gzip)", "flowlog", "log.gz"], ["csv", "csv", "csv"], ["ndjson", "ndjson", "ndjson"],
    ["DOT", "dot", "dot"], ["SVG", "svg", "svg"],
  ];
  for (const [name, format, ext] of formats) {
    const a = el("a", name) as HTMLAnchorElement;
    const params = { ...windowParams(v), filter: v.filter, format };
    if (format === "dot" || format === "svg") Object.assign(params, { group_by: "srcaddr,dstaddr,dstport,protocol,action" });
    a.href = "/?" + query(params);
    const stem = "digest-" + rfc3339(v.start).replace(/:/g, "");
    a.download = stem + (format === "flowlog" && v.filter ? ".log" : "." + ext);
    // Through fetch, so that the token goes with it (a plain link cannot carry it).
    a.addEventListener("click", async (e) => {
      e.preventDefault();
      try {
        const blob = await (await api(a.href)).blob();
        const url = URL.createObjectURL(blob);
        const tmp = document.createElement("a");
        tmp.href = url;
        tmp.download = a.download;
        tmp.click();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (err) { fail(err); }
    });
    box.append(a);
  }
}

// --- start --------------------------------------------------------------------------------

function init() {
  const params = new URLSearchParams(location.search);
  const start = params.get("start");
  const stop = params.get("stop");
  if (start && stop && !isNaN(Date.parse(start)) && !isNaN(Date.parse(stop))) {
    input("start").value = toLocalInput(new Date(start));
    input("stop").value = toLocalInput(new Date(stop));
  } else {
    preset("hour");
  }
  input("filter").value = params.get("filter") ?? "";
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); show(); });
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-preset]")) {
    b.addEventListener("click", () => { preset(b.dataset.preset!); show(); });
  }
  $("clearFilter").addEventListener("click", () => setFilter(""));
  $("request").addEventListener("click", requestDigest);
  $("diffButton").addEventListener("click", renderDiff);
  $("tokenButton").addEventListener("click", askToken);
  ($("tokenDialog") as HTMLDialogElement).addEventListener("close", () => {
    const dialog = $("tokenDialog") as HTMLDialogElement;
    if (dialog.returnValue === "save") {
      sessionStorage.setItem(TOKEN_KEY, input("tokenInput").value.trim());
      input("tokenInput").value = "";
      show();
    }
  });
  if (start && stop) show();
}

init();
