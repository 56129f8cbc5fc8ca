// LogStream dashboard: a live tail over the WebSocket (batched messages), or a time range or one line with its
// neighbours over the HTTP API; the query and range live in the URL, so a link reproduces the view.
// Log text is attacker-controlled: it is only ever set as text (see logview.js, facets.js, histogram.js,
// details.js).
import { LogView } from "./logview.js";
import { HistogramChart } from "./histogram.js";
import { renderFacet } from "./facets.js";
import { DetailsPanel } from "./details.js";
import { LiveTail, PauseBuffer } from "./live.js";
import { facetTerm, highlightTerms, toggleTerm, tokens } from "./query.js";

const REFRESH_MS = 3000;
const PAGE_LINES = 1000;
const URL_KEYS = ["q", "query", "level", "service", "since", "until", "line", "source", "node"];
const FACETS = ["level", "service", "host"];
/// The range picker's presets: `since` as a duration back from now, which the API reads as such.
const PRESETS = { "15m": "Last 15 minutes", "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days" };
const $ = (id) => document.getElementById(id);

const state = { q: "", query: "", level: "", service: "", since: "", until: "", line: "", source: "", node: "" };
/// The cluster's history is searched over a range (the last hour unless chosen): the live tail is this node's.
const CLUSTER_DEFAULT_RANGE = "1h";
let paused = false;
let dropped = 0;
let generation = 0;
let aggregatesBusy = false;
/// The oldest id held in memory (from /api/stats): the live view's histogram and facets cover memory only, as
/// they did before history reached the disk, so that a refresh every few seconds never reads days of history.
let memoryOldestId = null;

const details = new DetailsPanel(
  { panel: $("details"), title: $("details-title"), fields: $("details-fields"), permalink: $("permalink"), copy: $("copy-json") },
  { onClose: () => view.select(null) },
);
const view = new LogView($("list"), $("spacer"), { onSelect: (entry) => details.show(entry) });
const chart = new HistogramChart($("histogram"), { onRange: zoomTo });
const pauseBuffer = new PauseBuffer();
const live = new LiveTail({
  newestId: () => view.newestId,
  onHistory: (newestFirst, { merge, complete }) => {
    if (!merge) view.replace(newestFirst);
    else if (paused) hold(newestFirst);
    else view.prepend(newestFirst);
    if (merge && !complete) showNotice("More lines arrived than could be caught up; the oldest of them are not shown.");
    updateCounts();
  },
  onLines: (newestFirst) => {
    if (paused) hold(newestFirst); else view.prepend(newestFirst);
    updateCounts();
  },
  onDropped: (count) => {
    dropped += count;
    $("dropped-count").textContent = dropped.toLocaleString();
  },
  onError: showError,
  onStatus: setConnection,
  onRestart: () => showNotice("The server restarted: lines from before the restart are no longer held."),
});

function mode() {
  if (state.line) return "line";
  return state.since || state.until ? "range" : "live";
}

// --- URL state ---------------------------------------------------------------------------------------------

function readURL() {
  const params = new URLSearchParams(location.search);
  for (const key of URL_KEYS) state[key] = params.get(key) || "";
  $("q").value = state.q;
  $("query").value = state.query;
  $("level").value = state.level;
  $("service").value = state.service;
  if (state.query || state.level || state.service) $("simple-filters").open = true;
}

function writeURL(push) {
  const params = new URLSearchParams();
  for (const key of URL_KEYS) if (state[key]) params.set(key, state[key]);
  const url = params.toString() ? `?${params}` : location.pathname;
  if (url === location.search || (url === location.pathname && !location.search)) return;
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
}

/// The filter and range as API parameters.
function apiParams({ withRange = true } = {}) {
  const params = new URLSearchParams();
  for (const key of ["q", "query", "level", "service", "source"]) if (state[key]) params.set(key, state[key]);
  if (withRange && mode() === "range") {
    if (state.since) params.set("since", state.since);
    if (state.until) params.set("until", state.until);
  }
  return params;
}

/// A preset's key when the range is one ("1h": the last hour up to now), else null.
function preset() {
  return !state.until && Object.hasOwn(PRESETS, state.since) ? state.since : null;
}

/// Shows what the state asks for: called after every change of query, range or line.
function apply({ push = false } = {}) {
  generation += 1;
  if (state.source === "cluster" && !state.since && !state.until && !state.line) state.since = CLUSTER_DEFAULT_RANGE;
  writeURL(push);
  clearError();
  view.setTerms(highlightTerms(state.q, state.query));
  view.targetId = null;
  details.close();
  setPaused(false, { resync: false });
  updateModeBar();
  live.active = mode() === "live";
  if (mode() === "live") live.subscribe({ filters: { query: state.query, level: state.level, service: state.service, q: state.q } });
  else if (mode() === "range") loadRange();
  else loadLine(Number(state.line));
  refreshAggregates();
}

// --- pausing the live tail ---------------------------------------------------------------------------------

function hold(newestFirst) {
  pauseBuffer.hold(newestFirst);
  const count = pauseBuffer.count;
  $("new-lines").textContent = `${count.toLocaleString()} new ${count === 1 ? "line" : "lines"}`;
  $("new-lines").classList.remove("hidden");
}

function setPaused(value, { resync = true } = {}) {
  const wasPaused = paused;
  paused = value && mode() === "live";
  $("pause").textContent = paused ? "Resume" : "Pause";
  $("pause").classList.toggle("active", paused);
  if (wasPaused && !paused && resync) {
    // Lines held while paused go in; if more came than were held, the server sends them again.
    if (pauseBuffer.overflowed) live.subscribe({ after: view.newestId });
    else view.prepend(pauseBuffer.lines);
  }
  if (!paused) {
    pauseBuffer.clear();
    $("new-lines").classList.add("hidden");
  }
  updateModeBar();
}

// --- ranges and single lines over HTTP ----------------------------------------------------------------------

async function fetchJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (response.status === 401) location.href = "/login";  // the server wants its token (--auth-token)
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return { body, response };
}

async function loadRange({ older = false } = {}) {
  const asked = generation;
  const params = apiParams();
  params.set("limit", String(PAGE_LINES));
  if (older && view.oldest) params.set("before", view.oldest.cursor ?? String(view.oldest.id));
  try {
    const { body, response } = await fetchJSON(`/api/logs?${params}`);
    if (asked !== generation) return;
    if (older) view.append(body); else view.replace(body);
    const total = Number(response.headers.get("X-Total-Matched"));
    const exact = response.headers.get("X-Total-Matched-Exact") === "true";
    $("older").classList.toggle("hidden", body.length < PAGE_LINES);
    if (!older) $("shown").dataset.total = `${total.toLocaleString()}${exact ? "" : "+"}`;
    updateCounts();
  } catch (error) {
    if (asked === generation) showError(error.message);
  }
}

async function loadLine(id) {
  const asked = generation;
  const params = new URLSearchParams({ after: String(Math.max(0, id - 26)), before: String(id + 26), limit: "51" });
  if (state.source === "cluster") { params.set("source", "cluster"); params.set("node", state.node); }
  try {
    const { body } = await fetchJSON(`/api/logs?${params}`);
    if (asked !== generation) return;
    view.replace(body);
    const target = body.find((entry) => entry.id === id);
    if (!target || !view.reveal(LogView.key(target))) showNotice(`Line #${id} is no longer ${state.source === "cluster" ? "in the cluster's history" : "in memory"}.`);
    updateCounts();
  } catch (error) {
    if (asked === generation) showError(error.message);
  }
}

function zoomTo(since, until) {
  state.since = new Date(since).toISOString();
  state.until = new Date(until).toISOString();
  state.line = "";
  apply({ push: true });
}

function backToLive() {
  state.since = state.until = state.line = state.source = state.node = "";
  apply({ push: true });
}

// --- histogram, facets, stats ------------------------------------------------------------------------------

async function refreshAggregates() {
  if (aggregatesBusy) return;
  aggregatesBusy = true;
  const asked = generation;
  const params = apiParams();
  if (mode() === "live") {
    if (memoryOldestId === null) await refreshStats();
    if (memoryOldestId > 0) params.set("after", String(memoryOldestId - 1));
  }
  const buckets = Math.max(20, Math.min(200, Math.floor($("histogram").clientWidth / 10)));
  try {
    const [histogram, ...facets] = await Promise.all([
      fetchJSON(`/api/histogram?${params}&buckets=${buckets}`),
      ...FACETS.map((field) => fetchJSON(`/api/facets?field=${field}&limit=8&${params}`)),
    ]);
    if (asked !== generation) return;
    chart.render(histogram.body);
    const terms = new Set(tokens(state.q));
    FACETS.forEach((field, index) => {
      renderFacet($(`facet-${field}`), field, facets[index].body, (value) =>
        terms.has(facetTerm(field, value, false)) ? "in" : terms.has(facetTerm(field, value, true)) ? "out" : "");
    });
  } catch (error) {
    if (asked === generation && mode() !== "live") showError(error.message);
  } finally {
    aggregatesBusy = false;
  }
}

async function refreshStats() {
  try {
    const { body } = await fetchJSON("/api/stats");
    $("rate").textContent = Math.round(Number(body.rate)).toLocaleString();
    $("stored-count").textContent = Number(body.stored).toLocaleString();
    $("kernel-drops").textContent = Number(body.udp_kernel_drops || 0).toLocaleString();
    $("truncated-count").textContent = Number(body.truncated || 0).toLocaleString();
    memoryOldestId = Number(body.memory_oldest_id);
    showDisk(body);
    showShipping(body);
  } catch (_) { /* the connection indicator already tells */ }
}

/// The history on disk (absent with --no-persist), and whether persisting has stopped on errors.
function showDisk(stats) {
  if (stats.disk_bytes === undefined) return;
  const failing = Number(stats.disk_write_failing) === 1;
  $("disk-stat").classList.remove("hidden");
  $("disk-stat").classList.toggle("failing", failing);
  $("disk-size").textContent = failing ? "writes failing" : formatBytes(Number(stats.disk_bytes));
  const oldest = Number(stats.disk_oldest_time_ms);
  $("disk-stat").title = failing
    ? `Persisting has stopped: ${Number(stats.disk_write_errors).toLocaleString()} writes failed (the server's log says why). New lines are kept in memory and writes are retried.`
    : `${Number(stats.disk_records).toLocaleString()} records on disk${oldest ? ` since ${new Date(oldest).toLocaleString()}` : ""}`;
}

/// Shipping to ClickHouse (only with --clickhouse-url): how far behind it is, and whether it is held up.
function showShipping(stats) {
  if (Number(stats.clickhouse_enabled) !== 1) return;
  $("source").classList.remove("hidden");
  const failing = Number(stats.clickhouse_failing) === 1;
  const records = Number(stats.clickhouse_lag_records), seconds = Number(stats.clickhouse_lag_seconds);
  $("clickhouse-stat").classList.remove("hidden");
  $("clickhouse-stat").classList.toggle("failing", failing);
  $("clickhouse-lag").textContent = records === 0 ? "none" : `${records.toLocaleString()} · ${formatSeconds(seconds)}`;
  const causes = Object.entries(stats.clickhouse_failures || {}).filter(([, count]) => count > 0)
    .map(([cause, count]) => `${cause} ${Number(count).toLocaleString()}`).join(", ");
  $("clickhouse-stat").title = `${failing ? "Shipping is held up and retried (the server's log says why). " : ""}`
    + `${records.toLocaleString()} records not yet in ClickHouse, the oldest taken in ${formatSeconds(seconds)} ago; `
    + `${Number(stats.clickhouse_shipped_records).toLocaleString()} shipped`
    + `${Number(stats.clickhouse_rows_rejected) ? `, ${Number(stats.clickhouse_rows_rejected).toLocaleString()} rejected by ClickHouse` : ""}`
    + `${Number(stats.clickhouse_lost_records) ? `, ${Number(stats.clickhouse_lost_records).toLocaleString()} lost before shipping` : ""}`
    + `${causes ? `; failures: ${causes}` : ""}`;
}

function formatSeconds(seconds) {
  return seconds < 10 ? `${seconds.toFixed(1)} s` : seconds < 120 ? `${Math.round(seconds)} s`
    : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`;
}

function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let unit = 0;
  while (bytes >= 1000 && unit < units.length - 1) { bytes /= 1000; unit += 1; }
  return `${bytes < 10 && unit > 0 ? bytes.toFixed(1) : Math.round(bytes)} ${units[unit]}`;
}

// --- the page around the list ------------------------------------------------------------------------------

function updateModeBar() {
  const current = mode();
  const text = current === "line" ? `Line #${state.line} and its neighbours`
    : current === "range" ? (preset() ? `${PRESETS[preset()]}, newest first` : `${state.since ? new Date(state.since).toLocaleString() : "…"} → ${state.until ? new Date(state.until).toLocaleString() : "now"}`)
      : paused ? "Paused" : "Live";
  $("range").value = current === "live" ? "" : preset() || "custom";
  $("source").value = state.source;
  if (state.source === "cluster") $("source").classList.remove("hidden");
  $("range").querySelector('option[value="custom"]').hidden = current !== "range" || preset() !== null;
  $("mode").textContent = text;
  $("mode").className = `mode ${current}${paused ? " paused" : ""}`;
  $("back-to-live").classList.toggle("hidden", current === "live");
  $("pause").classList.toggle("hidden", current !== "live");
  if (current !== "range") $("older").classList.add("hidden");
  delete $("shown").dataset.total;
  updateCounts();
}

function updateCounts() {
  const total = $("shown").dataset.total;
  $("shown").textContent = `${view.length.toLocaleString()}${total ? ` of ${total}` : ""} lines`;
  $("empty").textContent = mode() === "live" ? "Waiting for logs…" : "No lines here.";
  $("empty").classList.toggle("hidden", view.length > 0);
}

function showError(message) {
  $("q").classList.add("invalid");
  $("q").title = message;
  showNotice(message, "error");
}

function clearError() {
  $("q").classList.remove("invalid");
  $("q").title = "";
  $("notice").classList.add("hidden");
}

function showNotice(message, kind = "info") {
  $("notice").textContent = message;
  $("notice").className = `notice ${kind}`;
}

function setConnection(status) {
  $("connection").className = `connection ${status === "up" ? "up" : status === "down" ? "down" : ""}`;
  $("connection-text").textContent = status === "up" ? "live" : status === "down" ? "reconnecting" : "connecting";
}

function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  $("theme").textContent = theme === "dark" ? "Light theme" : "Dark theme";
  try { localStorage.setItem("logstream-theme", theme); } catch (_) { /* private mode */ }
}

function toggleTimeMode() {
  view.setRelativeTime(!view.relativeTime);
  $("time-mode").textContent = view.relativeTime ? "Absolute time" : "Relative time";
}

function debounce(action, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(action, ms);
  };
}

function isTyping(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
}

function wire() {
  const searchNow = () => {
    if ($("q").value === state.q) return;
    state.q = $("q").value;
    apply();
  };
  $("q").addEventListener("input", debounce(searchNow, 400));
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = $("q").value;
    apply({ push: true });
  });
  const simple = () => {
    state.query = $("query").value;
    state.level = $("level").value;
    state.service = $("service").value.trim();
    apply();
  };
  $("query").addEventListener("input", debounce(simple, 300));
  $("service").addEventListener("input", debounce(simple, 300));
  $("level").addEventListener("change", simple);
  $("pause").addEventListener("click", () => setPaused(!paused));
  $("back-to-live").addEventListener("click", backToLive);
  $("range").addEventListener("change", () => {
    const chosen = $("range").value;
    if (chosen === "custom") return;
    state.since = chosen;
    state.until = state.line = state.node = "";
    if (!chosen) state.source = "";  // live is this node's tail
    apply({ push: true });
  });
  $("source").addEventListener("change", () => {
    state.source = $("source").value;
    state.line = state.node = "";
    apply({ push: true });
  });
  $("older").addEventListener("click", () => loadRange({ older: true }));
  $("time-mode").addEventListener("click", toggleTimeMode);
  $("theme").addEventListener("click", () => setTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark"));
  $("clear").addEventListener("click", () => { view.clear(); updateCounts(); });
  $("close-details").addEventListener("click", () => details.close());
  $("permalink").addEventListener("click", (event) => {
    const selected = details.entry;
    if (!selected || event.ctrlKey || event.metaKey || event.shiftKey) return;  // let the browser open a new tab
    event.preventDefault();
    // The same view as the link opened fresh: the line and its neighbours, no filter (Back returns to the query).
    for (const key of URL_KEYS) state[key] = "";
    state.line = String(selected.id);
    if (selected.node !== undefined) { state.source = "cluster"; state.node = selected.node; }
    $("q").value = "";
    apply({ push: true });
  });
  document.querySelector(".facets").addEventListener("click", (event) => {
    const button = event.target.closest("button.facet-value");
    if (!button) return;
    state.q = toggleTerm(state.q, facetTerm(button.dataset.field, button.dataset.value, event.shiftKey)).trim();
    $("q").value = state.q;
    apply({ push: true });
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "/") {
      event.preventDefault();
      $("q").focus();
      $("q").select();
    } else if (event.key === " " && mode() === "live") {
      event.preventDefault();
      setPaused(!paused);
    } else if (event.key === "t") {
      toggleTimeMode();
    } else if (event.key === "Escape") {
      details.close();
    }
  });
  window.addEventListener("popstate", () => {
    readURL();
    apply();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  let theme = "dark";
  try { theme = localStorage.getItem("logstream-theme") || "dark"; } catch (_) { /* private mode */ }
  setTheme(theme);
  wire();
  readURL();
  live.active = mode() === "live";
  live.connect();
  apply();
  refreshStats();
  setInterval(refreshStats, 2000);
  // The live view's chart moves with the tail; so does a preset's, whose end is now.
  setInterval(() => { if (mode() === "live" || preset()) refreshAggregates(); }, REFRESH_MS);
  setInterval(() => { if (view.relativeTime) view.redraw(); }, 1000);
});
