// A virtualised list of log lines, newest first: only the rows in view exist in the DOM (a small pool reused
// as the list scrolls), so 100,000 lines scroll as smoothly as 100. Log text is attacker-controlled: every
// piece is set with textContent, and highlights are <mark> elements around text nodes, never parsed HTML.

export const ROW_HEIGHT = 22;
const OVERSCAN = 8;
const LEVELS = new Set(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);

export class LogView {
  constructor(container, spacer, { capacity = 100_000, onSelect = () => {} } = {}) {
    this.container = container;
    this.spacer = spacer;
    this.capacity = capacity;
    this.onSelect = onSelect;
    this.entries = [];
    this.pool = [];
    this.terms = [];
    this.relativeTime = false;
    this.selectedId = null;
    this.targetId = null;
    this.pendingShift = 0;
    this.version = 0; // bumped when every row must be redrawn (highlights, time mode)
    this.scheduled = false;
    container.addEventListener("scroll", () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(container);
    container.addEventListener("click", (event) => {
      const row = event.target.closest(".row");
      if (row && row.entry) this.select(row.entry);
    });
  }

  /// An entry's identity: its id on this node; across a cluster its cursor (ids repeat from node to node).
  static key(entry) { return entry.cursor ?? entry.id; }

  get length() { return this.entries.length; }
  get oldest() { return this.entries.length ? this.entries[this.entries.length - 1] : null; }
  get newestId() { return this.entries.length ? this.entries[0].id : null; }
  get oldestId() { return this.entries.length ? this.entries[this.entries.length - 1].id : null; }

  replace(entries) {
    this.entries = entries.slice(0, this.capacity);
    this.pendingShift = 0;
    this.container.scrollTop = 0;
    this.schedule();
  }

  /// Newer lines, newest first. A reader scrolled down keeps the lines they are reading in place.
  prepend(entries) {
    const newest = this.newestId;
    const fresh = newest === null ? entries : entries.filter((entry) => entry.id > newest);
    if (!fresh.length) return;
    if (this.container.scrollTop > 0) this.pendingShift += fresh.length * ROW_HEIGHT;
    this.entries = fresh.concat(this.entries);
    if (this.entries.length > this.capacity) this.entries.length = this.capacity;
    this.schedule();
  }

  /// Older lines at the bottom (a further page of a listing).
  append(entries) {
    const oldest = this.oldestId;
    // A cluster's page starts past the cursor it was asked with: nothing to filter.
    const older = oldest === null || this.oldest.cursor ? entries : entries.filter((entry) => entry.id < oldest);
    this.entries = this.entries.concat(older.slice(0, Math.max(0, this.capacity - this.entries.length)));
    this.schedule();
  }

  clear() { this.replace([]); }

  setTerms(terms) {
    this.terms = terms;
    this.redraw();
  }

  setRelativeTime(relative) {
    this.relativeTime = relative;
    this.redraw();
  }

  redraw() {
    this.version += 1;
    this.schedule();
  }

  select(entry) {
    this.selectedId = entry ? LogView.key(entry) : null;
    this.redraw();
    this.onSelect(entry);
  }

  /// Scrolls so that the line with `id` is in view (a permalink's target).
  reveal(key) {
    const index = this.entries.findIndex((entry) => LogView.key(entry) === key);
    if (index < 0) return false;
    this.targetId = key;
    this.spacer.style.height = `${this.entries.length * ROW_HEIGHT}px`;
    this.container.scrollTop = Math.max(0, index * ROW_HEIGHT - this.container.clientHeight / 2);
    this.select(this.entries[index]);
    return true;
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.render());
  }

  render() {
    this.scheduled = false;
    this.spacer.style.height = `${this.entries.length * ROW_HEIGHT}px`;
    if (this.pendingShift) {
      this.container.scrollTop += this.pendingShift;
      this.pendingShift = 0;
    }
    const first = Math.max(0, Math.floor(this.container.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil(this.container.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const count = Math.max(0, Math.min(this.entries.length - first, visible));
    while (this.pool.length < count) {
      const row = document.createElement("div");
      row.className = "row";
      this.container.append(row);
      this.pool.push(row);
    }
    this.pool.forEach((row, slot) => {
      if (slot >= count) {
        row.hidden = true;
        row.entry = null;
        return;
      }
      row.hidden = false;
      row.style.transform = `translateY(${(first + slot) * ROW_HEIGHT}px)`;
      const entry = this.entries[first + slot];
      if (row.entry !== entry || row.version !== this.version) this.fill(row, entry);
    });
  }

  fill(row, entry) {
    row.entry = entry;
    row.version = this.version;
    const level = LEVELS.has(entry.level) ? entry.level : "INFO";
    row.className = `row level-${level}` + (LogView.key(entry) === this.selectedId ? " selected" : "") + (LogView.key(entry) === this.targetId ? " target" : "");
    row.dataset.id = String(entry.id);
    const message = span("msg", "");
    // A multi-line record (a stack trace) is one row showing its first line; the details panel shows it whole.
    const text = String(entry.raw);
    const newline = text.indexOf("\n");
    appendHighlighted(message, newline < 0 ? text : text.slice(0, newline), this.terms);
    if (newline >= 0) {
      const more = text.split("\n").length - 1;
      message.append(span("badge folded", `+${more} ${more === 1 ? "line" : "lines"}`));
    }
    if (entry.truncated) message.append(span("badge", "truncated"));
    row.replaceChildren(
      span("time", this.relativeTime ? relativeTime(entry.timestamp) : absoluteTime(entry.timestamp)),
      span("level", String(entry.level)),
      span("service", String(entry.service)),
      span("host", String(entry.host)),
      message,
    );
  }
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

/// Appends `text` to `parent`, wrapping every case-insensitive occurrence of a term in <mark>.
export function appendHighlighted(parent, text, terms) {
  const lower = text.toLowerCase();
  // Lower-casing can change the length of some characters; then offsets would not line up, so no highlight.
  if (!terms.length || lower.length !== text.length) {
    parent.append(text);
    return;
  }
  const ranges = [];
  for (const term of terms) {
    for (let at = lower.indexOf(term); at >= 0 && ranges.length < 64; at = lower.indexOf(term, at + term.length)) {
      ranges.push([at, at + term.length]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let position = 0;
  for (const [start, end] of ranges) {
    if (end <= position) continue;
    const from = Math.max(start, position);
    if (from > position) parent.append(text.slice(position, from));
    const mark = document.createElement("mark");
    mark.textContent = text.slice(from, end);
    parent.append(mark);
    position = end;
  }
  if (position < text.length) parent.append(text.slice(position));
}

export function absoluteTime(iso) {
  const time = new Date(iso);
  if (isNaN(time)) return String(iso);
  const pad = (value, width = 2) => String(value).padStart(width, "0");
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`;
}

export function relativeTime(iso) {
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (isNaN(seconds)) return String(iso);
  if (seconds < 60) return `${Math.max(seconds, 0)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}
