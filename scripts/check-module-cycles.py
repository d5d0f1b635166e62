#!/usr/bin/env python3
"""Fails when modules of one crate import each other in a cycle.

Each crate's modules are read from its `src/` tree (a file is a module; `foo/mod.rs` is
`foo`). An edge A -> B is a path in A's code that names B: `crate::b::…`, `super::b::…`,
or a path through a child module (`child::item`). Edges to A's own ancestors are left out: the crate root and
a folder's `mod.rs` are front doors that declare their children, and naming them is not
an import of a sibling. Test modules (`#[cfg(test)] mod tests`) are left out too.

Usage: scripts/check-module-cycles.py [crate-dir …]   (default: model engine app server)
       scripts/check-module-cycles.py --self-test
"""
import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)(::\{)?")
CHILD = re.compile(r"(?<![:\w])([a-z_][a-z0-9_]*)::")


def strip(code):
    """Drops comments, string literals and the test module."""
    code = re.sub(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{.*", "", code, flags=re.S)
    code = re.sub(r'r#*"(?:.|\n)*?"#*', '""', code)
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    code = re.sub(r"//[^\n]*", "", code)
    return re.sub(r"/\*.*?\*/", "", code, flags=re.S)


def module_of(src, file):
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return tuple(parts)


def braces(code, start):
    """The text inside the `{…}` that opens at `start`, and the names first in each item."""
    depth, i = 0, start
    while i < len(code):
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            break
        i += 1
    inner = code[start + 1:i]
    names, depth, item = [], 0, ""
    for ch in inner + ",":
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            first = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", item)
            if first:
                names.append(first.group(1))
            item = ""
        else:
            item += ch
    return names


def graph(src):
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f): f for f in files}
    edges = {m: set() for m in modules}

    def deepest(path):
        while path and path not in modules:
            path = path[:-1]
        return path

    for module, file in modules.items():
        code = strip(file.read_text())
        here = module if file.name in ("lib.rs", "main.rs", "mod.rs") else module
        for m in PATH.finditer(code):
            head, rest = m.group(1), [p for p in m.group(2).split("::") if p]
            if head == "crate":
                base = ()
            elif head == "self":
                base = here
            else:  # super
                base = here[:-1]
                while rest and rest[0] == "super":
                    base, rest = base[:-1], rest[1:]
            targets = [base + tuple(rest)]
            if m.group(3):
                targets = [base + tuple(rest) + (name,) for name in braces(code, m.end() - 1)]
            for target in targets:
                found = deepest(target)
                if found != module and found != module[: len(found)]:
                    edges[module].add(found)
        for m in CHILD.finditer(code):
            child = module + (m.group(1),)
            if child in modules:
                edges[module].add(child)
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def name(module):
    return "::".join(module) or "(crate root)"


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        (src / "room").mkdir(parents=True)
        (src / "lib.rs").write_text("mod a; mod b; mod room; pub use a::X;\n")
        (src / "a.rs").write_text("use crate::Engine; // crate::b::Y in a comment\npub struct X;\n")
        (src / "b.rs").write_text('use crate::a::X; const S: &str = "crate::room::c";\n')
        (src / "room" / "mod.rs").write_text("pub mod c; pub mod d; use c::Z;\n")
        (src / "room" / "c.rs").write_text("use super::d::W; use crate::{a::X, Engine};\n#[cfg(test)]\nmod tests { use crate::b::Y; }\n")
        (src / "room" / "d.rs").write_text("use super::Thing; pub struct W;\n")
        assert cycles(graph(src)) == [], cycles(graph(src))
        (src / "a.rs").write_text("use crate::room::{c::Z};\npub struct X;\n")
        found = cycles(graph(src))
        assert found == [[("a",), ("room", "c")]], found
    print("self-test passed: a cycle through braces is found; comments, strings, tests and front doors are not edges")


def main(args):
    if args == ["--self-test"]:
        self_test()
        return 0
    root = Path(__file__).resolve().parent.parent
    crates = args or ["model", "engine", "app", "server"]
    failed = False
    for crate in crates:
        src = (root / crate / "src") if not Path(crate).is_absolute() else Path(crate) / "src"
        for component in cycles(graph(src)):
            failed = True
            print(f"{crate}: import cycle between " + ", ".join(name(m) for m in component))
    if not failed:
        print(f"no import cycles in {', '.join(crates)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
