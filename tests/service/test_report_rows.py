"""`beacon report` and each of its subcommands show the same rows for the same log."""

from __future__ import annotations

from click.testing import CliRunner

from service.cli import main
from service.querylog import CuratorLog


def _rows(output: str, heading: str) -> list[str]:
    """The indented rows under the section whose heading line starts with `heading`."""
    rows, inside = [], False
    for line in output.splitlines():
        if line.startswith(" "):
            rows += [line] if inside else []
        elif not line.startswith("("):  # a column legend belongs to its section
            inside = line.startswith(heading)
    return rows


def test_report_and_its_subcommands_show_the_same_number_of_rows(tmp_path):
    log = CuratorLog(tmp_path / "log.sqlite", retention_days=30)
    for i in range(60):
        log.record_unanswered(f"question number {i}", 0.1)
        log.record_asked(f"question number {i}", answered=False)
        log.record_feedback(f"question number {i}", f"doc{i}#top", "result", False, "en")
    env = {"BEACON_QUERY_LOG_PATH": str(tmp_path / "log.sqlite")}
    whole = CliRunner().invoke(main, ["report"], env=env, terminal_width=200)
    assert whole.exit_code == 0, whole.output
    for command, heading in (("gaps", "Unanswered"), ("unhelpful", "Marked unhelpful"), ("asked", "Most asked")):
        alone = CliRunner().invoke(main, ["report", command], env=env, terminal_width=200)
        assert alone.exit_code == 0, alone.output
        rows = [l for l in alone.output.splitlines() if l.startswith(" ")]
        assert len(rows) == len(_rows(whole.output, heading)) > 0, (command, alone.output, whole.output)
