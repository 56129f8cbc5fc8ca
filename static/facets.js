// The facet lists (levels, services, hosts) from GET /api/facets: each value a button with its count.
// Values come from log lines, so they are set as text only.

const LEVELS = new Set(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);

/// `data` is the /api/facets answer; `state(value)` says whether the query includes ("in"), excludes ("out")
/// or ignores ("") that value.
export function renderFacet(list, field, data, state) {
  const items = data.values.map(({ value, count }) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = `facet-value ${state(value)}`;
    button.dataset.field = field;
    button.dataset.value = value;
    button.title = "click: only these · shift-click: without these";
    const name = document.createElement("span");
    name.className = field === "level" && LEVELS.has(value) ? `name level-${value}` : "name";
    name.textContent = value;
    const number = document.createElement("span");
    number.className = "count";
    number.textContent = count.toLocaleString();
    button.append(name, number);
    item.append(button);
    return item;
  });
  if (data.others > 0) {
    const more = document.createElement("li");
    more.className = "others";
    more.textContent = `${data.others.toLocaleString()} in other values`;
    items.push(more);
  }
  list.replaceChildren(...items);
}
