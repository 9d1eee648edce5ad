"""Docs that tests keep true (as Datasette does): the README's settings table, architecture.md's module
tables and its statement of which package may import which."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from service.settings import Settings
from tests.helpers import ROOT

PACKAGES = ("ingest", "index", "service")


def _settings_rows() -> dict[str, str]:
    """{BEACON_NAME: its default cell} from the README's settings table ("A / B" rows give each)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| `BEACON_") or len(cells) < 4:
            continue
        names = re.findall(r"`(BEACON_[A-Z0-9_]+)`", cells[0])
        defaults = cells[2].split(" / ") if len(names) > 1 else [cells[2]]
        for name, default in zip(names, defaults if len(defaults) == len(names) else [cells[2]] * len(names)):
            rows[name] = default.strip()
    return rows


def test_every_setting_is_in_the_readme_table_and_every_row_is_a_setting():
    fields = {f"BEACON_{name.upper()}" for name in Settings.model_fields}
    rows = set(_settings_rows())
    assert fields - rows == set(), "settings missing from the README's table"
    assert rows - fields == set(), "README rows naming no setting"


def test_readme_defaults_match_the_code():
    """Each row whose default cell is one literal (`5`, `json`, `.beacon/index`) states the code's default;
    rows that say it in words ("unset", "the site file's") are read by people."""
    checked, wrong = 0, {}
    for name, field in Settings.model_fields.items():
        literal = re.fullmatch(r"`([^`]*)`", _settings_rows().get(f"BEACON_{name.upper()}", ""))
        default = field.get_default(call_default_factory=True)
        if not literal or isinstance(default, (list, dict)) or default is None:
            continue
        checked += 1
        number = isinstance(default, (int, float)) and not isinstance(default, bool)
        if (float(literal.group(1)) != default) if number else (literal.group(1) != str(default)):
            wrong[name] = (literal.group(1), default)
    assert checked >= 20 and wrong == {}


def _modules_in_table(package: str) -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    part = text.split(f"## {package}/", 1)[1].split("\n## ", 1)[0]
    return {
        m
        for line in part.splitlines()
        if line.startswith("| `")
        for m in re.findall(r"`(\w+\.py)`", line.split("|")[1])
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_architecture_lists_every_module_of_each_package(package):
    actual = {p.name for p in (ROOT / package).glob("*.py") if p.name != "__init__.py"}
    listed = _modules_in_table(package)
    assert actual - listed == set(), f"modules of {package}/ missing from docs/architecture.md"
    assert listed - actual == set(), f"docs/architecture.md lists modules {package}/ no longer has"


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_data_flows_one_way_as_architecture_md_says(package):
    """ingest imports neither index nor service; index does not import service; service uses both."""
    later = set(PACKAGES[PACKAGES.index(package) + 1 :])
    wrong = {str(p.relative_to(ROOT)): sorted(_imported_packages(p) & later) for p in (ROOT / package).rglob("*.py")}
    assert {k: v for k, v in wrong.items() if v} == {}
    statement = "ingest never imports index or service, and index never imports service"
    assert statement in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_eval_help_names_every_default_question_set():
    from click.testing import CliRunner

    from index.evaluate import DEFAULT_QUESTION_FILES
    from service.cli import main

    shown = " ".join(CliRunner().invoke(main, ["eval", "--help"], terminal_width=400).output.split())
    assert all(path.name in shown for path in DEFAULT_QUESTION_FILES), shown


def test_no_module_imports_another_modules_private_names():
    """A leading underscore means "this module's own": a rename there must not break another module
    silently (bench/common.py imported index.store._chunk_from_dict after it was renamed)."""
    found = []
    for path in [p for package in (*PACKAGES, "bench") for p in (ROOT / package).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in PACKAGES):
                found += [
                    f"{path.relative_to(ROOT)}: {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert found == []


def test_every_file_type_beacon_reads_has_a_size_cap_and_nothing_else_does():
    """The readers' registry is the list of types; the caps (docs/security.md) follow it."""
    from ingest.limits import MAX_FILE_BYTES
    from ingest.reader import READERS

    assert set(MAX_FILE_BYTES) == set(READERS)
