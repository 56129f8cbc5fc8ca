// Small helpers over the query language's text (the server parses it; these only read and extend it):
// which words to highlight, and the terms a facet click adds or removes.

const KEYWORDS = new Set(["AND", "OR", "NOT"]);

/// The words and "phrases" a line must contain (not negated, not key:value, not regexes), lower-cased.
export function highlightTerms(q, simpleText) {
  const terms = [];
  const pattern = /(-?)"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of String(q).matchAll(pattern)) {
    if (match[2] !== undefined) {
      if (!match[1] && match[2]) terms.push(match[2].replace(/\\(.)/g, "$1"));
      continue;
    }
    const word = match[3].replace(/^[()]+|[()]+$/g, "");
    if (!word || KEYWORDS.has(word) || word.startsWith("-") || word.includes(":") || word.startsWith("/")) continue;
    terms.push(word);
  }
  if (simpleText) terms.push(simpleText);
  return [...new Set(terms.map((term) => term.toLowerCase()).filter(Boolean))];
}

/// `field:value`, quoted when the value holds anything but plain word characters; `-` in front to exclude.
export function facetTerm(field, value, exclude) {
  const plain = /^[A-Za-z0-9_.@-]+$/.test(value) && !KEYWORDS.has(value);
  const text = plain ? value : `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `${exclude ? "-" : ""}${field}:${text}`;
}

/// Adds `term` to `q`, or removes it (and its opposite) when it is already there.
export function toggleTerm(q, term) {
  const opposite = term.startsWith("-") ? term.slice(1) : `-${term}`;
  const words = tokens(q);
  const had = words.includes(term);
  const kept = words.filter((word) => word !== term && word !== opposite);
  if (!had) kept.push(term);
  return kept.join(" ");
}

/// Splits `q` at spaces outside quotes.
export function tokens(q) {
  return String(q).match(/(?:[^\s"]+|"(?:[^"\\]|\\.)*")+/g) || [];
}
