#!/usr/bin/env python3
"""Fails when a library source includes a header of a layer it does not link.

Every folder of src/ sees every other (src/ is an include directory of the lowest target), so
the compiler cannot hold the layers; this check does, from the real CMake graph. CMake writes
build/layers.tsv at configure time (src/CMakeLists.txt: one line per vpcflow_* library with its
source folder, its sources and the libraries it links). A source of target T may include a
header owned by T or by a target T links, directly or not. A header is owned by the target that
lists it or its .cpp among its sources, else by the target whose source folder holds it (the
deepest). A public header (include/vpcflow/) is owned by the library that implements it
(PUBLIC_OWNERS below: for an interface, the lowest library that defines what it declares, so
the layers the interface serves may use it); a public header missing from the table fails the
check, so a new one is placed when it is added. Public headers are checked like sources too.
The upward includes of KNOWN_UPWARD are debt written down: the check fails on any other, and on
one of those that is gone.

Usage: check_layers.py BUILD/layers.tsv SOURCE_DIR   (exit 1 and one line per wrong include)
       check_layers.py --graph BUILD/layers.tsv       (the layer graph, for docs/DESIGN.md)
       check_layers.py --self-test                    (proves the check fails on a wrong include)
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# include/vpcflow/<header> -> the library that implements it.
PUBLIC_OWNERS = {
    "byte_sink.hpp": "vpcflow_common",
    "digest_summary.hpp": "vpcflow_common",
    "job_state.hpp": "vpcflow_common",
    "object_source.hpp": "vpcflow_common",
    "status.hpp": "vpcflow_common",
    "window.hpp": "vpcflow_common",
    "digest.hpp": "vpcflow_digest",
    "clock.hpp": "vpcflow_modules",
    "http_client.hpp": "vpcflow_modules",
    "logger.hpp": "vpcflow_modules",
    "marker.hpp": "vpcflow_modules",
    "queuer.hpp": "vpcflow_modules",
    "stats.hpp": "vpcflow_modules",
    "storage.hpp": "vpcflow_modules",
    "s3.hpp": "vpcflow_service",
    "service.hpp": "vpcflow_service",
}

# Upward includes known and owned as debt: each still present (else the check fails, so this
# list cannot go stale), none added. Empty since the summary vocabulary moved below flowlog
# (vpcflow/digest_summary.hpp, issue 13); the mechanism stays for the next debt.
KNOWN_UPWARD = frozenset()


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


def files_by_target(targets, public, public_owners, errors):
    """The files each target answers for: its sources, the headers beside its .cpp files and the
    public headers it owns."""
    files = {name: [] for name in targets}
    for name, t in targets.items():
        for source in t["sources"]:
            files[name].append(source)
            stem, ext = os.path.splitext(source)
            if ext in (".cpp", ".cc") and os.path.exists(stem + ".hpp"):
                files[name].append(stem + ".hpp")
    if os.path.isdir(public):
        for header in sorted(os.listdir(public)):
            owner = public_owners.get(header)
            if owner is None:
                errors.append(f"include/vpcflow/{header}: not in PUBLIC_OWNERS of "
                              "scripts/check_layers.py: name the library that implements it")
            elif owner not in targets:
                errors.append(f"include/vpcflow/{header}: its owner {owner} is not a library")
            else:
                files[owner].append(os.path.join(public, header))
    return files


def check(tsv, source_dir, public_owners=None, known=frozenset()):
    if public_owners is None:
        public_owners = PUBLIC_OWNERS
    targets = read_targets(tsv)
    by_file = owner_index(targets)
    src = os.path.normpath(os.path.join(source_dir, "src"))
    public = os.path.normpath(os.path.join(source_dir, "include", "vpcflow"))
    errors = []
    files = files_by_target(targets, public, public_owners, errors)
    unseen = set(known)

    def include_owner(inc):
        path = os.path.normpath(os.path.join(src, inc))
        if os.path.exists(path):
            return owner_of(path, targets, by_file)
        if inc.startswith("vpcflow/") and os.path.exists(os.path.join(public, inc[8:])):
            owner = public_owners.get(inc[8:])
            return owner if owner in targets else None  # else reported above
        return None  # a generated header, or one beside the file

    for name in sorted(targets):
        allowed = closure(targets, name) | {name}
        for f in files[name]:
            if not os.path.exists(f):
                continue
            with open(f, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                owner = include_owner(inc)
                rel = os.path.relpath(f, source_dir)
                if (rel, inc) in known:
                    unseen.discard((rel, inc))
                elif owner and owner not in allowed:
                    errors.append(f"{rel}: includes \"{inc}\" of {owner}, "
                                  f"but {name} does not link {owner}")
    for rel, inc in sorted(unseen):
        errors.append(f"{rel}: no longer includes \"{inc}\": remove it from KNOWN_UPWARD")
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
        # A public header belongs to the library that implements it: the low layer may include
        # its own, not the high layer's; a public header nobody owns is an error too.
        owners = {"low.hpp": "vpcflow_low", "high.hpp": "vpcflow_high"}
        write("include/vpcflow/low.hpp", "#pragma once\n")
        write("include/vpcflow/high.hpp", '#pragma once\n#include "vpcflow/low.hpp"\n')
        write("src/low/a.cpp", '#include "low/a.hpp"\n#include "vpcflow/low.hpp"\n')
        write("src/high/b.cpp", '#include "high/b.hpp"\n#include "vpcflow/high.hpp"\n')
        assert check(tsv, root, owners) == [], check(tsv, root, owners)
        write("src/low/a.hpp", '#pragma once\n#include "vpcflow/high.hpp"\n')
        errors = check(tsv, root, owners)
        assert len(errors) == 1 and "src/low/a.hpp" in errors[0] and "vpcflow_high" in errors[0], errors
        write("src/low/a.hpp", "#pragma once\n")
        write("include/vpcflow/low.hpp", '#pragma once\n#include "vpcflow/high.hpp"\n')
        errors = check(tsv, root, owners)
        assert len(errors) == 1 and "include/vpcflow/low.hpp" in errors[0], errors
        write("include/vpcflow/low.hpp", "#pragma once\n")
        known = {("src/low/a.hpp", "vpcflow/high.hpp")}
        errors = check(tsv, root, owners, known)
        assert len(errors) == 1 and "no longer includes" in errors[0], errors
        write("src/low/a.hpp", '#pragma once\n#include "vpcflow/high.hpp"\n')
        assert check(tsv, root, owners, known) == [], check(tsv, root, owners, known)
        write("src/low/a.hpp", "#pragma once\n")
        write("include/vpcflow/new.hpp", "#pragma once\n")
        errors = check(tsv, root, owners)
        assert len(errors) == 1 and "new.hpp: not in PUBLIC_OWNERS" in errors[0], errors
    print("check_layers self-test: a wrong include (of src/ or include/vpcflow/) is found, "
          "a right one is not")
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
    errors = check(argv[1], argv[2], known=KNOWN_UPWARD)
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
