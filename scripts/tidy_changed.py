#!/usr/bin/env python3
"""clang-tidy (the project's .clang-tidy) on the lines changed since a recorded base.

`make tidy` lints every library and program source, one file after the other: 126 files, 8
CPU-minutes, 36 minutes measured on the shared 2-core machine; too long for `make test`. This
check (the `tidy` test, label lint) lints what changed since BASE below (since the merge base
of BASE and HEAD, for a branch made before BASE): the library and program .cpp files whose
lines changed (committed or not), and the .cpp beside each changed header; a finding on a
changed line of those files or of a header (src/, include/vpcflow/) fails it. Findings on
older lines are `make tidy`'s to list: move BASE forward (any commit of main) when the changed
files make this check slow.

Usage: tidy_changed.py BUILD_DIR SOURCE_DIR   (exit 1 and the findings; 77 when SOURCE_DIR is
                                               not a git checkout, or BASE is unknown to it)
       tidy_changed.py --self-test            (proves a finding on a changed line fails, and
                                               one on an unchanged line does not)
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# The commit of main the changed lines are counted from (moved forward to a main whose changes
# this check passed, at stop 20's end: from an older base, the changes of main since make the
# check outlast its 15 minutes on the shared machine). A branch made before it is compared with
# their merge base, so it is linted on its own changes only.
BASE = "e3cca4b"

SKIP = 77
LINTED = re.compile(r"^(src|apps|include)/.*\.(cpp|hpp)$")
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def git(source_dir, *args):
    return subprocess.run(["git", "-C", source_dir, *args], capture_output=True, text=True)


def changed_lines(diff_text):
    """{path: [[first, last], ...]} of the added or changed lines of a `git diff -U0`."""
    lines, path = {}, None
    for line in diff_text.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif path and (m := HUNK.match(line)):
            first, count = int(m.group(1)), int(m.group(2) or "1")
            if count > 0:
                lines.setdefault(path, []).append([first, first + count - 1])
    return lines


def units_for(changed, source_dir, exists=os.path.exists):
    """The translation units to lint: changed .cpp files (not tests) and the .cpp beside each
    changed header."""
    units = set()
    for path in changed:
        if not LINTED.match(path) or path.startswith("include/") or path.endswith("_test.cpp"):
            continue
        unit = path if path.endswith(".cpp") else path[:-4] + ".cpp"
        if exists(os.path.join(source_dir, unit)):
            units.add(unit)
    return sorted(units)


def tidy(unit, line_filter, cwd, build_dir=None, extra=()):
    """Runs clang-tidy on one unit; returns (failed, output)."""
    cmd = ["clang-tidy", "--quiet", "--warnings-as-errors=*",
           "--line-filter=" + json.dumps(line_filter), unit]
    if build_dir:
        cmd[1:1] = ["-p", build_dir]
    cmd += list(extra)
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return p.returncode != 0, (p.stdout + p.stderr).strip()


def check(build_dir, source_dir):
    if git(source_dir, "rev-parse", "--git-dir").returncode != 0:
        print("tidy: not a git checkout: nothing to compare with")
        return SKIP
    base = git(source_dir, "merge-base", BASE, "HEAD")
    if base.returncode != 0:
        print(f"tidy: base {BASE} unknown here: {base.stderr.strip()}")
        return SKIP
    since = base.stdout.strip()
    diff = git(source_dir, "diff", "-U0", "--no-color", "--no-ext-diff", since, "--",
               "src", "apps", "include")
    if diff.returncode != 0:
        print(f"tidy: git diff failed: {diff.stderr.strip()}")
        return SKIP
    changed = {p: r for p, r in changed_lines(diff.stdout).items() if LINTED.match(p)}
    units = units_for(changed, source_dir)
    if not units:
        print(f"tidy: no library or program source changed since {since[:7]}")
        return 0
    # clang-tidy matches a filter's name as a suffix of the file's path.
    line_filter = [{"name": p, "lines": r} for p, r in changed.items()]
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = {u: pool.submit(tidy, u, line_filter, source_dir, build_dir) for u in units}
        for unit, run in runs.items():
            bad, output = run.result()
            if bad:
                failed.append(unit)
                print(output)
    if failed:
        print(f"tidy: findings on lines changed since {since[:7]} in {len(failed)} of "
              f"{len(units)} files: {' '.join(failed)}", file=sys.stderr)
        return 1
    print(f"tidy: {len(units)} files changed since {since[:7]}, no finding on their changed lines")
    return 0


def self_test():
    if shutil.which("clang-tidy") is None:
        print("clang-tidy is not installed", file=sys.stderr)
        return 1
    diff = "+++ b/src/a/x.cpp\n@@ -1,0 +2,2 @@\n+a\n+b\n+++ b/src/a/y.hpp\n@@ -4 +4 @@\n"
    assert changed_lines(diff) == {"src/a/x.cpp": [[2, 3]], "src/a/y.hpp": [[4, 4]]}
    assert units_for(["src/a/y.hpp", "src/a/z_test.cpp", "bench/b.cpp", "include/v/y.hpp"], "/",
                     exists=lambda p: p == "/src/a/y.cpp") == ["src/a/y.cpp"]
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as root:
        shutil.copy(os.path.join(source, ".clang-tidy"), root)
        with open(os.path.join(root, "x.cpp"), "w", encoding="utf-8") as f:
            f.write("int* Clean();\nint* Null() { return 0; }\n")  # modernize-use-nullptr
        args = ["--", "-std=c++20"]
        bad, output = tidy("x.cpp", [{"name": "x.cpp", "lines": [[2, 2]]}], root, extra=args)
        assert bad and "modernize-use-nullptr" in output, output
        bad, output = tidy("x.cpp", [{"name": "x.cpp", "lines": [[1, 1]]}], root, extra=args)
        assert not bad, output
    print("tidy self-test: a finding on a changed line fails, one on an older line does not")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    return check(os.path.abspath(argv[1]), os.path.abspath(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
