"""docs/design.md cannot drift from the workflow file, and every citation of it names a section.

The tables between `<!-- generated:… -->` markers are rendered by scripts/design_tables.py from
workflows/case_workflow.yaml with the engine's own loader. Pure: no AWS.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from chalicelib.domain.workflow import DEFAULT_PATH, load_workflow_file

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "design.md"
SCRIPT = ROOT / "scripts" / "design_tables.py"
# Where code, data and docs may cite the design document.
CITING = ("app.py", "README.md", "chalicelib", "tests", "scripts", "workflows", "templates", "docs")
CITATION = re.compile(r"design\.md\)?((?:[\s,–-]*§\d+(?:\.\d+)?)+)")
SECTION = re.compile(r"^## §(\d+) ", re.M)


@pytest.fixture(scope="module")
def tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location("design_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_match_the_workflow_file(tables: ModuleType) -> None:
    current = DESIGN.read_text(encoding="utf-8")
    wanted = tables.render(current, load_workflow_file(DEFAULT_PATH))
    diff = "\n".join(
        list(difflib.unified_diff(current.splitlines(), wanted.splitlines(), lineterm=""))[:40]
    )
    assert wanted == current, (
        f"docs/design.md is out of date with {DEFAULT_PATH.name}: run "
        f"python scripts/design_tables.py\n{diff}"
    )


def test_check_fails_on_a_stale_block_and_a_rewrite_fixes_it(
    tables: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "design.md"
    text = DESIGN.read_text(encoding="utf-8")
    copy.write_text(text.replace("| `acknowledge` | liaison |", "| `acknowledge` | user |", 1))
    monkeypatch.setattr(tables, "DESIGN", copy)
    monkeypatch.setattr(tables, "ROOT", tmp_path)
    assert tables.main(["--check"]) == 1
    assert tables.main([]) == 0
    assert tables.main(["--check"]) == 0
    assert copy.read_text(encoding="utf-8") == text


def test_a_missing_marker_is_refused(tables: ModuleType) -> None:
    start, _ = tables.markers("workflow")
    with pytest.raises(ValueError, match="generated:workflow:start"):
        tables.render("# no markers here\n", load_workflow_file(DEFAULT_PATH))
    with pytest.raises(ValueError, match="generated:workflow:start"):
        tables.render(f"{start}\n{start}\n", load_workflow_file(DEFAULT_PATH))


def _sections() -> set[int]:
    return {int(n) for n in SECTION.findall(DESIGN.read_text(encoding="utf-8"))}


def _citing_files() -> list[Path]:
    files: list[Path] = []
    for name in CITING:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        files += [p for p in candidates if p.is_file() and "__pycache__" not in p.parts]
    return files


def test_sections_are_numbered_in_order() -> None:
    numbers = [int(n) for n in SECTION.findall(DESIGN.read_text(encoding="utf-8"))]
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_citation_of_the_design_document_names_a_section() -> None:
    sections, wrong = _sections(), []
    for path in _citing_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text
        for match in CITATION.finditer(text):
            for number in re.findall(r"§(\d+)", match.group(1)):
                if int(number) not in sections:
                    line = text.count("\n", 0, match.start()) + 1
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: §{number}")
    assert not wrong, f"no such section in docs/design.md: {wrong}"


def test_the_design_documents_own_references_name_its_sections() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    # "operations §7.4" points into docs/operations.md, not here.
    own = re.findall(r"(?<!operations )§(\d+)", SECTION.sub("", text))
    assert {int(n) for n in own} <= _sections()
