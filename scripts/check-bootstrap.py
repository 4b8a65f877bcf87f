#!/usr/bin/env python3
"""Fails when the scripts or tests use something from the system that scripts/bootstrap.sh
does not install, so a clean machine cannot discover it first (as it once did with
google/protobuf/any.proto, which is in libprotobuf-dev, not in protobuf-compiler).

Checked, on the machine where the suite runs:
- Debian: every command the scripts and tests run, every file protoc reads outside the
  repository, and every /usr path the scripts, tests and configuration defaults name must
  belong to a package that `bootstrap.sh test` lists, to a dependency of one, or to the base
  system (Essential or Priority required).
- Python: every module the live tests import must come from a distribution that
  Tests/python/requirements*.txt lists, or from a dependency of one (or the standard
  library, or the tests' own modules).
Prints one line per problem and exits 1 when there is any.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata, util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "Tests" / "python"

# Commands the scripts and live tests run that a bare Debian with Swift lacks. Kept beside
# the scan below: a new command in a script belongs here and in bootstrap's lists.
COMMANDS = ["protoc", "docker-compose", "chromium", "psql", "pg_dump", "curl"]
# Where absolute system paths are named: scripts, tests, and the configuration defaults.
PATH_SOURCES = [
    *sorted((ROOT / "scripts").glob("*")),
    *sorted(TESTS.glob("*.py")),
    *sorted((ROOT / "Sources" / "ObservatoryConfiguration").glob("*.swift")),
]
SYSTEM_PATH = re.compile(r"/usr/(?:bin|sbin|lib|libexec|share|include)/[A-Za-z0-9._+/-]+")


def run(*arguments: str) -> str:
    return subprocess.run(arguments, check=True, capture_output=True, text=True).stdout


def debian_closure(packages: list[str]) -> set[str]:
    """The listed packages and everything they depend on (Depends and Pre-Depends)."""
    output = run(
        "apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
        "--no-breaks", "--no-replaces", "--no-enhances", *packages)
    closure = {line.strip().strip("<>").split(":")[0] for line in output.splitlines() if line and not line[0].isspace()}
    # A virtual package (<awk>) is provided by what is installed under another name.
    return closure | set(packages)


def base_packages() -> set[str]:
    output = run("dpkg-query", "-W", "-f=${Package}\t${Essential}\t${Priority}\n")
    return {name.split(":")[0] for name, essential, priority in (line.split("\t") for line in output.splitlines())
            if essential == "yes" or priority == "required"}


def owners(paths: list[str]) -> dict[str, str]:
    """The Debian package that installed each file (following symlinks and alternatives),
    in one dpkg-query call: each call reads the whole file database."""
    candidates = {path: list(dict.fromkeys([path, os.path.realpath(path)])) for path in paths}
    queried = sorted({c for options in candidates.values() for c in options})
    output = subprocess.run(["dpkg-query", "-S", *queried], capture_output=True, text=True).stdout
    found = {}
    for line in output.splitlines():
        packages, _, file = line.partition(": ")
        found[file.strip()] = packages.split(",")[0].split(":")[0].strip()
    result = {}
    for path, options in candidates.items():
        package = next((found[c] for c in options if c in found), None)
        if package:
            result[path] = package
    return result


def protoc_inputs() -> list[str]:
    """Every file protoc reads to compile proto/, from its own dependency output. Raises
    with protoc's message when an import is missing from the machine."""
    files: set[str] = set()
    with tempfile.TemporaryDirectory() as scratch:
        deps = Path(scratch) / "deps"
        # protoc writes dependencies for one input file at a time.
        for proto in sorted((ROOT / "proto").rglob("*.proto")):
            subprocess.run(
                ["protoc", "-I", "proto", "-I", "/usr/include", f"--descriptor_set_out={scratch}/set",
                 f"--dependency_out={deps}", str(proto.relative_to(ROOT / "proto"))],
                cwd=ROOT, check=True, capture_output=True, text=True)
            files.update(deps.read_text().replace("\\\n", " ").split(":", 1)[1].split())
    return sorted(f for f in files if f.startswith("/"))


def debian_problems() -> list[str]:
    listed = run(str(ROOT / "scripts" / "bootstrap.sh"), "list", "test").split()
    allowed = debian_closure(listed) | base_packages()
    used: dict[str, str] = {}
    for command in COMMANDS:
        path = shutil.which(command)
        if path is None:
            return [f"command {command} is not installed: run scripts/bootstrap.sh test, or add its package there"]
        used[path] = f"command {command}"
    try:
        for path in protoc_inputs():
            used.setdefault(path, "imported by proto/")
    except subprocess.CalledProcessError as error:
        return [f"protoc cannot compile proto/ with what is installed: {error.stderr.strip()}"]
    for source in PATH_SOURCES:
        if source.is_file():
            for match in SYSTEM_PATH.findall(source.read_text(errors="replace")):
                if Path(match).is_file():
                    used.setdefault(match, f"named in {source.relative_to(ROOT)}")
    problems = []
    installed_by = owners(list(used))
    for path, why in sorted(used.items()):
        package = installed_by.get(path)
        if package is None:
            problems.append(f"{path} ({why}) belongs to no Debian package")
        elif package not in allowed:
            problems.append(f"{path} ({why}) comes from {package}, which scripts/bootstrap.sh does not install")
    return problems


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a requirement line (`psycopg[binary]==3.3.9`)."""
    return normalized(re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0])


def requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(requirement_name(line))
    return names


def python_closure(names: set[str]) -> set[str]:
    """The listed distributions and their installed dependencies (extras included)."""
    closure, pending = set(), list(names)
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        pending.extend(requirement_name(r) for r in requires)
    return closure


def file_owners() -> dict[str, str]:
    owners = {}
    for distribution in metadata.distributions():
        name = normalized(distribution.metadata["Name"])
        for file in distribution.files or []:
            if file.suffix in (".py", ".so") or file.name == "__init__.py":
                owners[os.path.realpath(str(distribution.locate_file(file)))] = name
    return owners


def module_spec(name: str):
    try:
        return util.find_spec(name)
    except (ImportError, ValueError):
        return None


def python_problems() -> list[str]:
    listed = set()
    for requirements in TESTS.glob("requirements*.txt"):
        listed |= requirement_names(requirements.read_text())
    allowed = python_closure(listed)
    local = {p.stem for p in TESTS.glob("*.py")}
    stdlib = set(sys.stdlib_module_names)
    owners = file_owners()
    problems = []
    for source in sorted(TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                imports = [[alias.name] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from package import module` of a namespace package: the module has the file.
                imports = [[f"{node.module}.{alias.name}", node.module] for alias in node.names]
            else:
                continue
            for candidates in imports:
                module = candidates[-1]
                top = module.split(".")[0]
                if top in stdlib or top in local or top == "__future__":
                    continue
                spec = next((s for s in map(module_spec, candidates) if s is not None and s.has_location), None)
                if spec is None or spec.origin is None:
                    problems.append(f"{source.name} imports {module}, which is not installed")
                    continue
                distribution = owners.get(os.path.realpath(spec.origin))
                if distribution is None:
                    if spec.origin.startswith(sysconfig.get_paths()["stdlib"]):
                        continue
                    problems.append(f"{source.name} imports {module} from {spec.origin}, which no pip distribution owns")
                elif distribution not in allowed:
                    problems.append(f"{source.name} imports {module} from {distribution}, which no requirements file lists")
    return sorted(set(problems))


def main() -> int:
    problems = debian_problems() + python_problems()
    for problem in problems:
        print(f"check-bootstrap: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("every system package and Python module the scripts and tests use is installed by scripts/bootstrap.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
