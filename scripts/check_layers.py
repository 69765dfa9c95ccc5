#!/usr/bin/env python3
"""Fails when a library source includes a header of a layer it does not link.

Every folder of src/ sees every other (src/ is an include directory of the lowest target), so
the compiler cannot hold the layers; this check does, from the real CMake graph. CMake writes
build/layers.tsv at configure time (src/CMakeLists.txt: one line per vpcflow_* library with its
source folder, its sources and the libraries it links). A source of target T may include a
header owned by T or by a target T links, directly or not. A header is owned by the target that
lists it or its .cpp among its sources, else by the target whose source folder holds it (the
deepest). Public headers (include/vpcflow/) are the interfaces every layer may use.

Usage: check_layers.py BUILD/layers.tsv SOURCE_DIR   (exit 1 and one line per wrong include)
       check_layers.py --graph BUILD/layers.tsv       (the layer graph, for docs/DESIGN.md)
       check_layers.py --self-test                    (proves the check fails on a wrong include)
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_targets(tsv):
    targets = {}
    with open(tsv, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            name, folder, sources, links = parts
            targets[name] = {
                "dir": os.path.normpath(folder),
                "sources": [os.path.normpath(os.path.join(folder, s)) for s in sources.split(";") if s],
                "links": [l for l in links.split(";") if l],
            }
    for t in targets.values():
        t["links"] = [l for l in t["links"] if l in targets]
    return targets


def closure(targets, name):
    seen, todo = set(), [name]
    while todo:
        for dep in targets[todo.pop()]["links"]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def owner_index(targets):
    by_file = {}
    for name, t in targets.items():
        for s in t["sources"]:
            by_file[s] = name
            stem, ext = os.path.splitext(s)
            if ext in (".cpp", ".cc"):
                by_file.setdefault(stem + ".hpp", name)
                by_file.setdefault(stem + ".h", name)
    return by_file


def owner_of(path, targets, by_file):
    if path in by_file:
        return by_file[path]
    best, depth = None, -1
    for name, t in targets.items():
        if path.startswith(t["dir"] + os.sep) and len(t["dir"]) > depth:
            best, depth = name, len(t["dir"])
    return best


def check(tsv, source_dir):
    targets = read_targets(tsv)
    by_file = owner_index(targets)
    src = os.path.normpath(os.path.join(source_dir, "src"))
    errors = []
    for name, t in sorted(targets.items()):
        allowed = closure(targets, name) | {name}
        for source in t["sources"]:
            files = [source]
            stem, ext = os.path.splitext(source)
            if ext in (".cpp", ".cc") and os.path.exists(stem + ".hpp"):
                files.append(stem + ".hpp")
            for f in files:
                if not os.path.exists(f):
                    continue
                with open(f, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for inc in INCLUDE.findall(text):
                    path = os.path.normpath(os.path.join(src, inc))
                    if not os.path.exists(path):
                        continue  # a public header, a generated one, or one beside the file
                    owner = owner_of(path, targets, by_file)
                    if owner and owner not in allowed:
                        rel = os.path.relpath(f, source_dir)
                        errors.append(f"{rel}: includes \"{inc}\" of {owner}, "
                                      f"but {name} does not link {owner}")
    return sorted(set(errors))


def graph(tsv):
    targets = read_targets(tsv)
    for name in sorted(targets):
        print(f"{name}: {' '.join(sorted(targets[name]['links'])) or '-'}")


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
        write("src/low/a.hpp", "#pragma once\n")
        write("src/low/a.cpp", '#include "low/a.hpp"\n')
        write("src/high/b.hpp", '#pragma once\n#include "low/a.hpp"\n')
        write("src/high/b.cpp", '#include "high/b.hpp"\n')
        tsv = os.path.join(root, "layers.tsv")
        low, high = os.path.join(root, "src/low"), os.path.join(root, "src/high")
        with open(tsv, "w", encoding="utf-8") as f:
            f.write(f"vpcflow_low\t{low}\ta.cpp\t\n")
            f.write(f"vpcflow_high\t{high}\tb.cpp\tvpcflow_low;Threads::Threads\n")
        assert check(tsv, root) == [], check(tsv, root)
        write("src/low/a.cpp", '#include "low/a.hpp"\n#include "high/b.hpp"\n')
        errors = check(tsv, root)
        assert len(errors) == 1 and "src/low/a.cpp" in errors[0] and "vpcflow_high" in errors[0], errors
    print("check_layers self-test: a wrong include is found, a right one is not")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) == 3 and argv[1] == "--graph":
        graph(argv[2])
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    errors = check(argv[1], argv[2])
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) go up a layer: link the target or move the code",
              file=sys.stderr)
        return 1
    print(f"layers hold: {len(read_targets(argv[1]))} libraries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
