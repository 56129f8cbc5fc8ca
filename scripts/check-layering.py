#!/usr/bin/env python3
"""The architecture's arrows, checked: each folder of Sources/LogStream may name the types of the folders it
depends on and no others (docs/ARCHITECTURE.md), only Reactor/ calls the C shim and only Transport/ libssl, and outside Storage/ only the
wiring, the destination and the disk history (which tails it) name the ring. A module of its own per folder would make the compiler enforce this;
a grep does it in a second. Exit status 1, with each offending line, when an arrow is crossed."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Sources" / "LogStream"
MAY_USE = {
    "Reactor": set(),
    "Transport": {"Reactor"},
    "Storage": set(),
    "Codecs": {"Storage"},
    "Query": {"Storage", "Codecs"},
    "Ingest": {"Storage", "Codecs", "Reactor", "Transport", "HTTP"},
    "HTTP": {"Codecs", "Reactor", "Transport"},
    "Web": {"HTTP", "Query", "Storage", "Codecs", "Reactor", "Transport"},
    "Persistence": {"Storage", "Reactor"},
    "Shipping": {"Storage", "Codecs", "Reactor", "Transport", "HTTP", "Persistence", "Query"},
    "App": {"Reactor", "Transport", "Storage", "Codecs", "Query", "Ingest", "HTTP", "Web", "Persistence", "Shipping"},
}
DECLARATION = re.compile(r"^(?:public |final |private |fileprivate |internal |indirect )*(?:class|struct|enum|protocol) (\w+)", re.M)


def code(path):
    """The file without comments and string literals, so that a word in prose is not a use."""
    text = re.sub(r'"""[\s\S]*?"""', '""', path.read_text())
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


files = {folder: sorted((ROOT / folder).rglob("*.swift")) for folder in MAY_USE}
declared = {folder: {name for path in paths for name in DECLARATION.findall(code(path))} for folder, paths in files.items()}
problems = []
for folder, paths in files.items():
    forbidden = {name: owner for owner, names in declared.items() if owner != folder and owner not in MAY_USE[folder] for name in names}
    for path in paths:
        text = code(path)
        relative = path.relative_to(ROOT)
        for name, owner in forbidden.items():
            if re.search(rf"\b{name}\b", text):
                problems.append(f"{relative}: names {name} ({owner}/), which {folder}/ may not use")
        if folder != "Reactor" and re.search(r"^import CEpoll", text, re.M):
            problems.append(f"{relative}: imports the C shim, which only Reactor/ may call")
        if folder != "Transport" and re.search(r"^import CTLS", text, re.M):
            problems.append(f"{relative}: imports libssl, which only Transport/ may call")
        if folder not in ("Storage", "App", "Persistence") and relative.name != "RecordDestination.swift" and re.search(r"\bLogRing\b", text):
            problems.append(f"{relative}: names LogRing; read through RecordSource")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
