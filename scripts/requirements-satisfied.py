#!/usr/bin/env python3
"""Exits 0 when every requirement of the given pip requirements files is installed at a
version its specifier allows, 1 otherwise (naming the first unmet one). Lets bootstrap skip
pip, which otherwise asks the package index even when nothing is missing."""

import sys
from importlib import metadata

from pip._vendor.packaging.requirements import InvalidRequirement, Requirement


def unmet(path: str) -> str | None:
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            return f"{line} (unreadable)"
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            return f"{requirement.name} (not installed)"
        if not requirement.specifier.contains(version, prereleases=True):
            return f"{requirement} (installed: {version})"
    return None


if __name__ == "__main__":
    for path in sys.argv[1:]:
        missing = unmet(path)
        if missing:
            print(f"{path}: {missing}", file=sys.stderr)
            sys.exit(1)
