"""`beacon build --publish-to` and `beacon rollback` with BEACON_PUBLISH_URL, through the CLI."""

from __future__ import annotations

from click.testing import CliRunner

from tests.helpers import TINY, write_corpus


def test_build_publishes_to_a_url_and_rollback_moves_the_remote_pointer(tmp_path, monkeypatch, embedder):
    from index.remote import remote_current, remote_versions
    from service.cli import main

    corpus = write_corpus(tmp_path / "corpus", TINY)
    bucket = f"file://{tmp_path / 'bucket'}"
    args = ["build", "-q", "--corpus", str(corpus), "--index", str(tmp_path / "idx")]
    runner = CliRunner()
    first = runner.invoke(main, [*args, "--publish-to", bucket])
    assert first.exit_code == 0, first.output
    v1 = remote_current(bucket)
    assert f"Published {v1} to {bucket}" in first.output

    again = runner.invoke(main, [*args, "--publish-to", bucket])  # nothing changed: nothing uploaded
    assert again.exit_code == 0 and "already serves" in again.output, again.output

    (corpus / "new.md").write_text("---\ntitle: New\n---\nA new support group.\n")
    monkeypatch.setenv("BEACON_PUBLISH_URL", bucket)
    second = runner.invoke(main, args)
    assert second.exit_code == 0, second.output
    v2 = remote_current(bucket)
    assert v2 != v1 and remote_versions(bucket) == [v1, v2]

    back = runner.invoke(main, ["rollback", "--index", str(tmp_path / "idx")])
    assert back.exit_code == 0, back.output
    assert remote_current(bucket) == v1 and f"is now {v1} (was {v2})" in back.output


def test_publish_to_an_unknown_scheme_is_one_clear_error(tmp_path, embedder):
    from service.cli import main

    corpus = write_corpus(tmp_path / "corpus", TINY)
    result = CliRunner().invoke(
        main,
        [
            "build",
            "-q",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "idx"),
            "--publish-to",
            "nosuchscheme://bucket/x",
        ],
    )
    assert result.exit_code == 1 and "Error:" in result.output and "s3://" in result.output, result.output
    assert "Traceback" not in result.output
