"""Prints the module dependency graph of a crate's `src/` (which module
mentions `crate::<other>`) and exits 1 if it has a cycle.

    python scripts/module_graph.py ffi-export-runtime/src ffi-export-macros/src

A module is a file (`foo.rs`, or `foo/mod.rs` with its `foo/*.rs` children
counted as `foo::child`); `lib.rs` is the root and is left out (it only
declares and re-exports). Mentions in comments are ignored.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Dict, List, Set


def modules(src: str) -> Dict[str, str]:
    """Module path (``a`` or ``a::b``) -> its source, comments stripped."""
    found: Dict[str, str] = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)[:-3].replace(os.sep, "::")
            if rel in ("lib", "main"):
                continue
            rel = rel[: -len("::mod")] if rel.endswith("::mod") else rel
            with open(os.path.join(root, name), encoding="utf-8") as f:
                text = f.read()
            text = re.sub(r"//[^\n]*", "", text)
            found[rel] = text
    return found


def reexports(src: str) -> Dict[str, str]:
    """Names `lib.rs` re-exports at the crate root -> the module they come from."""
    path = os.path.join(src, "lib.rs")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"//[^\n]*", "", f.read())
    names: Dict[str, str] = {}
    for module, group, single in re.findall(r"pub use (\w+)::(?:\{([^}]*)\}|(\w+))", text):
        for name in re.findall(r"\w+", group or single):
            names[name] = module
    return names


def graph(src: str) -> Dict[str, Set[str]]:
    """Who mentions whom: `crate::x`, `use crate::{x, ..}`, `super::x`, and
    `crate::Name` of a name `lib.rs` re-exports from module x."""
    mods = modules(src)
    roots = reexports(src)
    edges: Dict[str, Set[str]] = {m: set() for m in mods}
    tops = {m.split("::")[0] for m in mods}
    for module, text in mods.items():
        mentioned: Set[str] = set(re.findall(r"\bcrate::(\w+)", text))
        for group in re.findall(r"use\s+crate::\{([^}]*)\}", text):
            mentioned |= set(re.findall(r"(?:^|,)\s*(\w+)", group))
        parent = module.rsplit("::", 1)[0] if "::" in module else None
        if parent is not None:
            mentioned |= {f"{parent}::{m}" if f"{parent}::{m}" in mods else m
                          for m in re.findall(r"\bsuper::(\w+)", text)}
        for other in mentioned:
            other = roots.get(other, other)
            target = other if other in mods else (other if other in tops else None)
            if target is None or target == module or module.startswith(target + "::"):
                continue  # an item of this module, or the parent of a child
            edges[module].add(target)
    return edges


def cycle(edges: Dict[str, Set[str]]) -> List[str]:
    """A cycle as a path, or [] when there is none."""
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def main(argv: List[str]) -> int:
    status = 0
    for src in argv:
        edges = graph(src)
        print(f"{src}:")
        for module in sorted(edges):
            print(f"  {module} -> {', '.join(sorted(edges[module])) or '-'}")
        found = cycle(edges)
        if found:
            print(f"  CYCLE: {' -> '.join(found)}")
            status = 1
        else:
            print("  no cycle")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
