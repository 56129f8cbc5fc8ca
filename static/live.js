// The live tail over /ws with the batched protocol: a history, then batches of new lines. After a reconnect it
// asks only for what arrived after the newest line shown; a server that restarted (its ids start again) is
// noticed by the history's next_id, and the tail starts afresh.

const RECONNECT_MS = 2000;
const HISTORY_LINES = 1000;
const RESUME_LINES = 10000;

export class LiveTail {
  /// `newestId()`: the newest id shown, or null. Callbacks: `onHistory(newestFirst, { merge, complete })`,
  /// `onLines(newestFirst)`, `onDropped(count)`, `onError(message)`, `onStatus("connecting"|"up"|"down")`,
  /// `onRestart()`.
  constructor(callbacks) {
    this.callbacks = callbacks;
    this.filters = {};
    this.active = true;
    this.socket = null;
    this.mergeNextHistory = false;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    this.callbacks.onStatus("connecting");
    socket.onopen = () => {
      this.callbacks.onStatus("up");
      if (this.active) this.subscribe({ after: this.callbacks.newestId() });
    };
    socket.onclose = () => {
      this.callbacks.onStatus("down");
      setTimeout(() => this.connect(), RECONNECT_MS);
    };
    socket.onerror = () => socket.close();
    socket.onmessage = (event) => this.handle(JSON.parse(event.data));
  }

  /// New filters (or a resumed tail): a history first, merged into what is shown when `after` is an id.
  subscribe({ filters = this.filters, after = null } = {}) {
    this.filters = filters;
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const message = { type: "update_filters", filters, batch: true, limit: after === null ? HISTORY_LINES : RESUME_LINES };
    if (after !== null) message.after = after;
    this.mergeNextHistory = after !== null;
    this.socket.send(JSON.stringify(message));
  }

  handle(message) {
    const callbacks = this.callbacks;
    if (message.type === "error") return callbacks.onError(message.message);
    if (message.type === "dropped") return callbacks.onDropped(message.count);
    if (!this.active) return;
    if (message.type === "history") {
      const newest = callbacks.newestId();
      if (this.mergeNextHistory && newest !== null && message.next_id <= newest) {
        // Ids start again from 1 after a restart: what is shown came from the server's previous life.
        callbacks.onRestart();
        this.subscribe();
        return;
      }
      callbacks.onHistory(message.data, { merge: this.mergeNextHistory, complete: message.complete !== false });
      this.mergeNextHistory = false;
    } else if (message.type === "batch") {
      callbacks.onLines(message.data.reverse());
    } else if (message.type === "new_log") {
      callbacks.onLines([message.data]);
    }
  }
}

/// Lines that arrive while the tail is paused, newest first, up to a bound; past it, only counted (resuming
/// then asks the server for everything after the newest line shown).
export class PauseBuffer {
  constructor(capacity = 100_000) {
    this.capacity = capacity;
    this.clear();
  }

  hold(newestFirst) {
    this.count += newestFirst.length;
    if (this.lines.length + newestFirst.length > this.capacity) this.overflowed = true;
    if (!this.overflowed) this.lines = newestFirst.concat(this.lines);
  }

  clear() {
    this.lines = [];
    this.count = 0;
    this.overflowed = false;
  }
}
