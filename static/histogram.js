// The volume chart: one column per time bucket of GET /api/histogram, stacked by level (errors at the bottom,
// where they are seen first). Drag across it to zoom into a time range; click a column to see its lines.
// Built with createElementNS and textContent only.

const NS = "http://www.w3.org/2000/svg";
const STACK_ORDER = ["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"];
const HEIGHT = 110;
const AXIS = 16;

export class HistogramChart {
  constructor(svg, { onRange }) {
    this.svg = svg;
    this.onRange = onRange;
    this.data = null;
    this.drag = null;
    svg.setAttribute("height", String(HEIGHT + AXIS));
    svg.addEventListener("pointerdown", (event) => this.startDrag(event));
    svg.addEventListener("pointermove", (event) => this.moveDrag(event));
    svg.addEventListener("pointerup", (event) => this.endDrag(event));
    svg.addEventListener("pointerleave", () => this.cancelDrag());
    new ResizeObserver(() => this.draw()).observe(svg);
  }

  render(data) {
    this.data = data;
    this.draw();
  }

  get width() { return Math.max(this.svg.clientWidth, 100); }

  draw() {
    const data = this.data;
    if (!data || this.drag) return; // a redraw would drop the selection being dragged
    const width = this.width;
    this.svg.setAttribute("viewBox", `0 0 ${width} ${HEIGHT + AXIS}`);
    const columns = data.counts.length;
    const columnWidth = width / Math.max(columns, 1);
    const totals = data.counts.map((row) => row.reduce((sum, count) => sum + count, 0));
    const highest = Math.max(1, ...totals);
    const since = Date.parse(data.since);
    const children = [];
    data.counts.forEach((row, column) => {
      const group = document.createElementNS(NS, "g");
      group.setAttribute("class", "column");
      group.dataset.column = String(column);
      let top = HEIGHT;
      for (const level of STACK_ORDER) {
        const count = row[data.levels.indexOf(level)] || 0;
        if (!count) continue;
        const height = Math.max(1, (count / highest) * (HEIGHT - 4));
        top -= height;
        group.append(rect(column * columnWidth + 0.5, top, Math.max(columnWidth - 1, 1), height, `bar level-${level}`));
      }
      // An invisible full-height target, so that thin columns are easy to click and every column has a tooltip.
      const target = rect(column * columnWidth, 0, columnWidth, HEIGHT, "hit");
      const title = document.createElementNS(NS, "title");
      const start = since + column * data.bucket_ms;
      const parts = STACK_ORDER.map((level) => [level, row[data.levels.indexOf(level)] || 0]).filter(([, count]) => count);
      title.textContent = `${timeLabel(start)} – ${timeLabel(start + data.bucket_ms)}: ${totals[column].toLocaleString()} lines` +
        (parts.length ? ` (${parts.map(([level, count]) => `${level} ${count.toLocaleString()}`).join(", ")})` : "");
      target.append(title);
      group.append(target);
      children.push(group);
    });
    children.push(label(2, HEIGHT + AXIS - 3, "start", timeLabel(since)));
    children.push(label(width - 2, HEIGHT + AXIS - 3, "end", timeLabel(Date.parse(data.until))));
    children.push(label(2, 11, "start", `${highest.toLocaleString()} max`));
    this.svg.replaceChildren(...children);
  }

  /// The time at horizontal position `x` of the chart.
  timeAt(x) {
    const data = this.data;
    const fraction = Math.min(Math.max(x / this.width, 0), 1);
    return Date.parse(data.since) + fraction * data.counts.length * data.bucket_ms;
  }

  x(event) { return event.clientX - this.svg.getBoundingClientRect().left; }

  startDrag(event) {
    if (!this.data || event.button !== 0) return;
    this.svg.setPointerCapture(event.pointerId);
    const selection = rect(this.x(event), 0, 0, HEIGHT, "selection");
    this.svg.append(selection);
    this.drag = { from: this.x(event), selection };
  }

  moveDrag(event) {
    if (!this.drag) return;
    const to = this.x(event);
    this.drag.selection.setAttribute("x", String(Math.min(this.drag.from, to)));
    this.drag.selection.setAttribute("width", String(Math.abs(to - this.drag.from)));
  }

  endDrag(event) {
    if (!this.drag) return;
    const from = this.drag.from;
    const to = this.x(event);
    this.cancelDrag();
    if (Math.abs(to - from) >= 4) {
      this.onRange(Math.floor(this.timeAt(Math.min(from, to))), Math.ceil(this.timeAt(Math.max(from, to))));
      return;
    }
    // A click: the column under the pointer.
    const column = Math.floor((from / this.width) * this.data.counts.length);
    const start = Date.parse(this.data.since) + column * this.data.bucket_ms;
    this.onRange(start, start + this.data.bucket_ms - 1);
  }

  cancelDrag() {
    if (!this.drag) return;
    this.drag.selection.remove();
    this.drag = null;
    this.draw();
  }
}

function rect(x, y, width, height, className) {
  const element = document.createElementNS(NS, "rect");
  element.setAttribute("x", String(x));
  element.setAttribute("y", String(y));
  element.setAttribute("width", String(width));
  element.setAttribute("height", String(height));
  element.setAttribute("class", className);
  return element;
}

function label(x, y, anchor, text) {
  const element = document.createElementNS(NS, "text");
  element.setAttribute("x", String(x));
  element.setAttribute("y", String(y));
  element.setAttribute("text-anchor", anchor);
  element.setAttribute("class", "axis");
  element.textContent = text;
  return element;
}

function timeLabel(milliseconds) {
  const time = new Date(milliseconds);
  if (isNaN(time)) return "";
  const pad = (value) => String(value).padStart(2, "0");
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
}
