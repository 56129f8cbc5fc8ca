// LogStream dashboard: live tail over the original protocol (update_filters → history, then new_log).
// Log text is attacker-controlled: it is only ever set with textContent, never parsed as HTML.
"use strict";

const MAX_ROWS = 1000;
const RECONNECT_MS = 3000;
const $ = (id) => document.getElementById(id);

let socket = null;
let paused = false;
let dropped = 0;
const knownServices = new Set();

function filters() {
  return { query: $("query").value, level: $("level").value, service: $("service").value.trim() };
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  setConnection("connecting");
  socket.onopen = () => { setConnection("up"); sendFilters(); };
  socket.onclose = () => { setConnection("down"); setTimeout(connect, RECONNECT_MS); };
  socket.onerror = () => socket.close();
  socket.onmessage = (event) => handle(JSON.parse(event.data));
}

function sendFilters() {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ type: "update_filters", filters: filters() }));
  }
}

function handle(message) {
  if (message.type === "history") {
    $("rows").replaceChildren(...message.data.map((entry) => row(entry, false)));
  } else if (message.type === "new_log" && !paused) {
    const rows = $("rows");
    rows.prepend(row(message.data, true));
    while (rows.childElementCount > MAX_ROWS) rows.lastElementChild.remove();
  } else if (message.type === "dropped") {
    dropped += message.count;
    $("dropped-count").textContent = dropped.toLocaleString();
  }
  updateCounts();
}

function cell(className, text) {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  return td;
}

function row(entry, isNew) {
  const tr = document.createElement("tr");
  if (isNew) tr.className = "new";
  const time = new Date(entry.timestamp);
  tr.append(
    cell("time", isNaN(time) ? String(entry.timestamp) : time.toLocaleTimeString([], { hour12: false }) + "." + String(time.getMilliseconds()).padStart(3, "0")),
    cell(`level level-${/^[A-Z]+$/.test(entry.level) ? entry.level : "INFO"}`, entry.level),
    cell("service", entry.service),
    cell("host", `${entry.host} ${entry.protocol}`),
    cell("message", entry.raw),
  );
  if (entry.truncated) {
    const mark = document.createElement("span");
    mark.className = "truncated";
    mark.textContent = "truncated";
    tr.lastElementChild.append(mark);
  }
  rememberService(entry.service);
  tr.addEventListener("click", () => toggleDetails(tr, entry));
  return tr;
}

// A row's details: format, both times, every field. Built with textContent like everything else.
function toggleDetails(tr, entry) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains("details")) { next.remove(); return; }
  const details = document.createElement("tr");
  details.className = "details";
  const td = document.createElement("td");
  td.colSpan = 5;
  const list = document.createElement("dl");
  const add = (name, value) => {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
    list.append(dt, dd);
  };
  add("format", entry.format || "plain");
  add("received", entry.timestamp);
  if (entry.source_time) add("source time", entry.source_time);
  add("id", entry.id);
  for (const [name, value] of Object.entries(entry.fields || {})) add(name, value);
  td.append(list);
  details.append(td);
  tr.after(details);
}

function rememberService(name) {
  if (typeof name !== "string" || knownServices.has(name) || knownServices.size >= 200) return;
  knownServices.add(name);
  const option = document.createElement("option");
  option.value = name;
  $("services").append(option);
}

function setConnection(state) {
  $("connection").className = `connection ${state === "up" ? "up" : state === "down" ? "down" : ""}`;
  $("connection-text").textContent = state === "up" ? "live" : state === "down" ? "reconnecting" : "connecting";
}

function updateCounts() {
  const rows = $("rows");
  const count = rows.childElementCount - rows.getElementsByClassName("details").length;
  $("shown-count").textContent = count.toLocaleString();
  $("empty").className = count ? "empty hidden" : "empty";
}

async function refreshStats() {
  try {
    const response = await fetch("/api/stats", { cache: "no-store" });
    const stats = await response.json();
    $("buffer-count").textContent = Number(stats.stored).toLocaleString();
    $("rate").textContent = Math.round(Number(stats.rate)).toLocaleString();
  } catch (_) { /* the connection indicator already tells */ }
}

function debounce(action, ms) {
  let timer;
  return () => { clearTimeout(timer); timer = setTimeout(action, ms); };
}

document.addEventListener("DOMContentLoaded", () => {
  const refilter = debounce(sendFilters, 200);
  $("query").addEventListener("input", refilter);
  $("service").addEventListener("input", refilter);
  $("level").addEventListener("change", sendFilters);
  $("pause").addEventListener("click", () => {
    paused = !paused;
    $("pause").textContent = paused ? "Resume" : "Pause";
    if (!paused) sendFilters();
  });
  $("clear").addEventListener("click", () => { $("rows").replaceChildren(); updateCounts(); });
  connect();
  refreshStats();
  setInterval(refreshStats, 2000);
});
