#!/usr/bin/env python3
"""The OpenAPI lint: openapi_lint.py OPENAPI_YAML API_ROUTES_BIN

Parses OPENAPI_YAML with a real YAML parser (PyYAML, Debian's python3-yaml) and checks that it
is an OpenAPI 3 document: `openapi: 3.x.y`, an `info` with a title and a version, `paths` whose
operations each have responses with a description, and a `{name}` path parameter declared for
every template segment. Then that its paths document every route the server serves (the
"METHOD PATTERN" lines API_ROUTES_BIN prints, from the router the service builds) and no
operation the server does not serve. Prints every problem (FILE:LINE:COL for YAML errors) and
exits 1 when there is one, 0 otherwise.
"""
import re
import subprocess
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load(path):
    """The parsed document, or exits 1 with the parser's error and its position."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        print(f"openapi_lint: {where}: is not valid YAML: {e.problem or e.context}")
    except (OSError, yaml.YAMLError) as e:
        print(f"openapi_lint: {path}: {e}")
    sys.exit(1)


def served_routes(binary):
    out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    routes = set()
    for line in out.splitlines():
        method, pattern = line.split(" ", 1)
        routes.add((method.lower(), pattern))
    if not routes:
        sys.exit(f"openapi_lint: {binary} listed no route")
    return routes


def check_document(doc):
    problems = []
    if not isinstance(doc, dict):
        return ["the document is not a mapping"]
    version = doc.get("openapi")
    if not isinstance(version, str) or not re.fullmatch(r"3\.\d+\.\d+", version):
        problems.append(f"openapi: {version!r} is not an OpenAPI 3 version (3.x.y)")
    info = doc.get("info")
    if not isinstance(info, dict) or not all(isinstance(info.get(k), str) for k in ("title", "version")):
        problems.append("info needs a title and a version (strings)")
    paths = doc.get("paths")
    if not isinstance(paths, dict) or not paths:
        return problems + ["paths is missing or empty"]
    for path, item in paths.items():
        if not isinstance(path, str) or not path.startswith("/"):
            problems.append(f"path {path!r} does not start with '/'")
            continue
        if not isinstance(item, dict):
            problems.append(f"{path}: not a mapping")
            continue
        templated = set(re.findall(r"\{([^}]+)\}", path))
        path_params = item.get("parameters", [])
        for method in (m for m in item if m in METHODS):
            op = item[method]
            where = f"{method.upper()} {path}"
            if not isinstance(op, dict):
                problems.append(f"{where}: not a mapping")
                continue
            responses = op.get("responses")
            if not isinstance(responses, dict) or not responses:
                problems.append(f"{where}: no responses")
                continue
            for code, response in responses.items():
                if not re.fullmatch(r"[1-5](\d\d|XX)|default", str(code)):
                    problems.append(f"{where}: response {code!r} is not a status code")
                if isinstance(response, dict) and "$ref" not in response and \
                        not isinstance(response.get("description"), str):
                    problems.append(f"{where}: response {code} has no description")
            declared = {p.get("name") for p in path_params + op.get("parameters", [])
                        if isinstance(p, dict) and p.get("in") == "path"}
            for name in sorted(templated - declared):
                problems.append(f"{where}: path parameter {{{name}}} is not declared")
    return problems


def check_routes(doc, routes):
    problems = []
    paths = doc.get("paths") if isinstance(doc, dict) else None
    if not isinstance(paths, dict):
        return problems
    documented = {(m, p) for p, item in paths.items() if isinstance(item, dict)
                  for m in item if m in METHODS}
    for method, pattern in sorted(routes - documented):
        problems.append(f"{method.upper()} {pattern} is served but not in paths")
    # HEAD is answered for every GET route (router.hpp), so a documented head needs only a get.
    served = routes | {("head", p) for m, p in routes if m == "get"}
    for method, pattern in sorted(documented - served):
        problems.append(f"{method.upper()} {pattern} is documented but not served")
    return problems


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, binary = sys.argv[1], sys.argv[2]
    doc = load(path)
    problems = check_document(doc) + check_routes(doc, served_routes(binary))
    for p in problems:
        print(f"openapi_lint: {path}: {p}")
    if problems:
        sys.exit(1)
    print(f"openapi_lint: {path}: OpenAPI {doc['openapi']}, {len(doc['paths'])} paths, every served route documented")


if __name__ == "__main__":
    main()
