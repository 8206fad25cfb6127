"""docs/settings.md lists every GRAPHMESH_* setting the code reads, as
its catalogue says, and the catalogue names none that nothing reads."""

from __future__ import annotations

from pathlib import Path

from graphmesh_cli.settings_reference import SETTINGS, matches, read_in_code, render

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_the_code_reads_is_in_the_reference() -> None:
    read = read_in_code(ROOT)
    assert len(read) > 60  # the scan sees the code
    missing = {
        name: sorted(files)
        for name, files in read.items()
        if not any(matches(s, name) for s in SETTINGS)
    }
    assert missing == {}, "add these to libs/graphmesh_cli/settings_reference.py"


def test_the_reference_names_only_settings_the_code_reads() -> None:
    read = read_in_code(ROOT)
    stale = [s.name for s in SETTINGS if not s.derived and not any(matches(s, n) for n in read)]
    assert stale == []
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))


def test_the_page_is_the_catalogue() -> None:
    assert (ROOT / "docs" / "settings.md").read_text() == render(), "run scripts/settings-reference"
