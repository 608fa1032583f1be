"""The documentation keeps up with the code."""

import re
from pathlib import Path

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
