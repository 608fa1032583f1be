"""The documentation keeps up with the code."""

import re
import subprocess
from pathlib import Path

import pytest

from wagtail_easycars.client.contract import (
    STOCK_ITEM_KEYS,
    ExtraType,
    FinanceStatus,
    LeadStatus,
    PaymentMethod,
    Rating,
    ResponseCode,
    StockType,
    VehicleInterest,
    VehicleType,
)
from wagtail_easycars.conf import DEFAULTS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def reference():
    """The part of docs/configuration.md that documents WAGTAIL_EASYCARS keys."""
    return (DOCS / "configuration.md").read_text().split("## Outside `WAGTAIL_EASYCARS`")[0]


def test_every_setting_is_documented_in_the_configuration_reference():
    text = reference()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert sorted(set(DEFAULTS) - documented) == [], "add these keys to docs/configuration.md"
    assert sorted(documented - set(DEFAULTS)) == [], "docs/configuration.md documents keys conf.py does not have"


def test_the_configuration_reference_gives_each_default():
    text = reference()
    for key, default in DEFAULTS.items():
        if isinstance(default, str | int | float) and not isinstance(default, bool) or default is None:
            row = re.search(rf"^\| `{key}` \| (.+?) \|", text, flags=re.MULTILINE)
            assert row, key
            shown = row.group(1)
            assert repr(default).replace("'", '"') in shown or str(default) in shown, (key, shown)


def test_readme_opens_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text()
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == ["make demo", "make test"]


def test_links_between_documents_resolve():
    root = DOCS.parent
    broken = []
    for document in [root / "README.md", root / "CHANGELOG.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", document.read_text()):
            if "://" not in target and not (document.parent / target).resolve().exists():
                broken.append(f"{document.relative_to(root)} -> {target}")
    assert broken == []


# The repository stands on its own ---------------------------------------------------------------

ROOT = DOCS.parent
SKIPPED_DIRS = {".git", ".venv", ".tox", ".demo", "node_modules", "build", "dist"}
# Written so that this file does not match itself.
OUTSIDE_REFERENCES = re.compile(r"CONTRACT\.md|(?:\.\./|/work/)shared\b|architecture\s+document", re.IGNORECASE)
API_DOC = DOCS / "easycars-api.md"


def tracked_files(*suffixes):
    """The repository's tracked files with these suffixes (every such file when git is unavailable)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout.split("\0")
        paths = [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        paths = [
            path
            for path in ROOT.rglob("*")
            if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts) and not path.parent.name.endswith(".egg-info")
        ]
    return sorted(path for path in paths if path.suffix in suffixes and path.is_file())


def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(document):
    found, seen = set(), {}
    in_code = False
    for line in document.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else re.match(r"#{1,6} (.+)", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_nothing_cites_a_document_outside_the_repository():
    offending = []
    for path in tracked_files(".py", ".md"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if OUTSIDE_REFERENCES.search(line):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offending == [], "cite docs/easycars-api.md (or another file in this repository) instead"


def test_every_cited_section_of_a_document_exists():
    broken = []
    for path in tracked_files(".py", ".md", ".html"):
        text = path.read_text()
        citations = [(ROOT / target, anchor) for target, anchor in re.findall(r"\b(docs/[\w-]+\.md)#([\w-]+)", text)]
        if path.suffix == ".md":
            for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
                citations.append(((path.parent / target) if target else path, anchor))
        for target, anchor in citations:
            target = target.resolve()
            if target.suffix == ".md" and target.exists() and anchor not in anchors(target):
                broken.append(f"{path.relative_to(ROOT)} -> {target.relative_to(ROOT)}#{anchor}")
    assert broken == []


def test_the_package_cites_the_api_reference():
    cited = set()
    for path in tracked_files(".py"):
        cited.update(re.findall(r"docs/easycars-api\.md#([\w-]+)", path.read_text()))
    assert {"response-codes", "lead-enumerations", "stocktype-codes"} <= cited
    assert cited <= anchors(API_DOC)


def _table_row(text, first_cell):
    row = re.search(rf"^\| {re.escape(first_cell)} \|(.+)$", text, flags=re.MULTILINE)
    assert row, f"docs/easycars-api.md has no table row for {first_cell}"
    return row.group(1)


@pytest.mark.parametrize(
    "enum_type", [VehicleType, VehicleInterest, FinanceStatus, Rating, LeadStatus, PaymentMethod, ExtraType]
)
def test_the_api_reference_lists_each_integer_enum_as_the_client_defines_it(enum_type):
    row = _table_row(API_DOC.read_text(), f"`{enum_type.__name__}`")
    documented = {int(number): name for number, name in re.findall(r"(\d+) [^(|,]+\(`(\w+)`\)", row)}
    assert documented == {int(member): member.name for member in enum_type}


def test_the_api_reference_lists_the_response_codes_and_stock_types_as_the_client_defines_them():
    text = API_DOC.read_text()
    codes = dict(re.findall(r"^\| (\d+) \| \w+ \| `(\w+)` \|", text, flags=re.MULTILINE))
    assert codes == {str(int(member)): member.name for member in ResponseCode}
    letters = dict(re.findall(r"^\| `([A-Z])` \| [^|]+ \| `(\w+)` \|", text, flags=re.MULTILINE))
    assert letters == {member.value: member.name for member in StockType}


def test_the_api_reference_lists_the_stock_item_keys_in_vendor_order():
    section = API_DOC.read_text().split("### StockItem fields", 1)[1].split("\n### ", 1)[0]
    assert tuple(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)) == STOCK_ITEM_KEYS
