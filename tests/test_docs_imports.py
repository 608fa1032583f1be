"""Every ``wagtail_easycars.…`` name the documentation gives can be imported.

CHANGELOG.md is left out: it names the old paths on purpose.
"""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOTTED = re.compile(r"\bwagtail_easycars(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def resolves(dotted):
    """Import the longest module prefix of ``dotted``, then look the rest up as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


PACKAGE = ROOT / "wagtail_easycars"
#: Top-level modules and packages; other dotted names (permissions, check ids, log actions) are not imports.
TOP_LEVEL = {path.stem for path in PACKAGE.glob("*.py")} | {path.name for path in PACKAGE.iterdir() if path.is_dir()}


def import_paths(document):
    found = DOTTED.findall(document.read_text())
    return {name for name in found if name.split(".")[1] in TOP_LEVEL}


NAMES = sorted({(doc.relative_to(ROOT).as_posix(), name) for doc in DOCUMENTS for name in import_paths(doc)})


@pytest.mark.parametrize(("document", "dotted"), NAMES)
def test_documented_import_paths_resolve(document, dotted):
    assert resolves(dotted), f"{document} names {dotted}, which cannot be imported"
