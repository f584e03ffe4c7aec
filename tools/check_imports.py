#!/usr/bin/env python3
"""Fails when a Swift file imports a module its target does not declare in Package.swift, or
when docs/ARCHITECTURE.md's module graph is not Package.swift's.

A module that only builds because some other dependency happens to pull it in is an
undeclared edge of the module graph, and it breaks as soon as that other dependency changes.
The graph in docs/ARCHITECTURE.md (between the `module-graph` markers) is this script's output,
so it cannot drift from Package.swift. Run from the repository root:
    tools/check_imports.py            (exit status 1 and one line per violation)
    tools/check_imports.py --graph    (print the graph to paste into docs/ARCHITECTURE.md)
"""
import json
import os
import re
import subprocess
import sys

# Modules of the toolchain and the OS, available to every target.
SYSTEM = {"Foundation", "FoundationEssentials", "Dispatch", "Glibc", "Musl", "Darwin", "Testing", "XCTest",
          "_Concurrency", "Synchronization", "os", "PackageDescription"}
# Multi-line string literals (embedded Python scripts in tests, say) are not Swift code.
STRING_BLOCK = re.compile(r'"""(?:.|\n)*?"""')
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)


def targets():
    dump = subprocess.run(["swift", "package", "dump-package"], check=True, capture_output=True, text=True).stdout
    for t in json.loads(dump)["targets"]:
        declared = []
        for dep in t.get("dependencies", []):
            kind, value = next(iter(dep.items()))
            declared.append(value[0])
        default = "Tests" if t["type"] == "test" else "Sources"
        yield t["name"], t["type"], t.get("path") or os.path.join(default, t["name"]), declared


def module_graph(all_targets):
    """Each non-test target and what it declares, dependencies before dependents."""
    deps = {name: declared for name, kind, _, declared in all_targets if kind != "test" and name != "ScionTestSupport"
            and name != "AllocationCounter"}
    order, seen = [], set()

    def visit(name):
        if name in seen or name not in deps:
            return
        seen.add(name)
        for d in deps[name]:
            visit(d)
        order.append(name)

    for name in sorted(deps):
        visit(name)
    width = max(len(n) for n in order)
    return "\n".join(f"{n.ljust(width)} <- {', '.join(deps[n]) or '(nothing)'}" for n in order)


def check_architecture(graph):
    with open("docs/ARCHITECTURE.md", encoding="utf-8") as f:
        doc = f.read()
    m = re.search(r"<!-- module-graph -->\n```\n(.*?)\n```\n<!-- /module-graph -->", doc, re.S)
    if not m:
        return ["docs/ARCHITECTURE.md: no module graph between <!-- module-graph --> markers"]
    if m.group(1) != graph:
        return ["docs/ARCHITECTURE.md: the module graph differs from Package.swift; paste `tools/check_imports.py --graph`"]
    return []


def main():
    all_targets = list(targets())
    graph = module_graph(all_targets)
    if sys.argv[1:] == ["--graph"]:
        print(graph)
        return 0
    problems = check_architecture(graph)
    for name, _, path, declared in all_targets:
        for root, _, files in os.walk(path):
            for f in sorted(files):
                if not f.endswith(".swift"):
                    continue
                file = os.path.join(root, f)
                with open(file, encoding="utf-8") as handle:
                    for module in IMPORT.findall(STRING_BLOCK.sub("", handle.read())):
                        if module not in SYSTEM and module not in declared and module != name:
                            problems.append(f"{file}: imports {module}, which target {name} does not declare")
    print("\n".join(problems) if problems else "every import is a declared dependency")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
