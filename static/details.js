// The panel showing one line: both times and the delay between them, every attribute and field, the whole
// line; Copy JSON and a permalink. Everything from the line is set as text.

export class DetailsPanel {
  /// `elements`: { panel, title, fields, permalink, copy }.
  constructor(elements, { onClose = () => {} } = {}) {
    this.elements = elements;
    this.onClose = onClose;
    this.entry = null;
    elements.copy.addEventListener("click", () => this.copy());
  }

  show(entry) {
    if (!entry) return this.close();
    this.entry = entry;
    const { panel, title, fields, permalink } = this.elements;
    title.textContent = entry.node === undefined ? `Line #${entry.id}` : `Line #${entry.id} of ${entry.node}`;
    const link = new URLSearchParams({ line: String(entry.id) });
    if (entry.node !== undefined) { link.set("source", "cluster"); link.set("node", entry.node); }
    permalink.href = `${location.pathname}?${link}`;
    fields.replaceChildren();
    const add = (name, value) => {
      const term = document.createElement("dt");
      term.textContent = name;
      const description = document.createElement("dd");
      description.textContent = typeof value === "string" ? value : JSON.stringify(value);
      fields.append(term, description);
    };
    add("received", entry.timestamp);
    if (entry.source_time) {
      add("source time", entry.source_time);
      const lag = Date.parse(entry.timestamp) - Date.parse(entry.source_time);
      if (!isNaN(lag)) add("delay", lag >= 0 ? `received ${duration(lag)} after the source time` : `source time ${duration(-lag)} ahead of receive (clock skew?)`);
    }
    for (const key of ["node", "level", "service", "host", "protocol", "format"]) if (entry[key] !== undefined) add(key, entry[key]);
    if (entry.truncated) add("truncated", "yes: cut at the maximum line length");
    for (const [name, value] of Object.entries(entry.fields || {})) add(`field.${name}`, value);
    add("line", entry.raw);
    panel.classList.remove("hidden");
  }

  get isOpen() { return this.entry !== null; }

  close() {
    this.elements.panel.classList.add("hidden");
    if (this.entry === null) return;
    this.entry = null;
    this.onClose();
  }

  async copy() {
    if (!this.entry) return;
    const text = JSON.stringify(this.entry, null, 2);
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      // Without a secure context there is no clipboard API: a selected text area and the older command.
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const button = this.elements.copy;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy JSON"; }, 1500);
  }
}

/// `1.5 s`, `7h 15m 49s`.
export function duration(milliseconds) {
  if (milliseconds < 1000) return `${milliseconds} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  const seconds = Math.round(milliseconds / 1000);
  const parts = [[Math.floor(seconds / 86400), "d"], [Math.floor(seconds / 3600) % 24, "h"], [Math.floor(seconds / 60) % 60, "m"], [seconds % 60, "s"]];
  return parts.filter(([value]) => value > 0).map(([value, unit]) => `${value}${unit}`).join(" ");
}
