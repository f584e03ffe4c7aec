#!/usr/bin/env python3
"""Fails when a Swift file imports a module its target does not declare in Package.swift.

A module that only builds because some other dependency happens to pull it in is an
undeclared edge of the module graph (docs/ARCHITECTURE.md draws the declared one), and it
breaks as soon as that other dependency changes. Run from the repository root:
    tools/check_imports.py            (exit status 1 and one line per violation)
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
        declared = set()
        for dep in t.get("dependencies", []):
            kind, value = next(iter(dep.items()))
            declared.add(value[0])
        default = "Tests" if t["type"] == "test" else "Sources"
        yield t["name"], t.get("path") or os.path.join(default, t["name"]), declared


def main():
    problems = []
    for name, path, declared in targets():
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
