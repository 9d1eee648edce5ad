"""The beacon command: help, build errors as plain messages, and search output."""

from __future__ import annotations

import json

from click.testing import CliRunner

from service.cli import main


def run(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_every_command_has_help():
    for cmd in ([], ["build"], ["serve"], ["search"], ["eval"]):
        result = run(*cmd, "--help")
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output


def test_build_reports_malformed_file_with_line_and_exit_1(tmp_path, tiny_corpus):
    (tiny_corpus / "bad.md").write_text("---\ntitle: ok\nlinks: {oops\n---\nx\n")
    result = run("build", "--corpus", str(tiny_corpus), "--index", str(tmp_path / "idx"), "-q")
    assert result.exit_code == 1
    assert "bad.md:3" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_build_then_search_json(tmp_path, tiny_corpus):
    idx = str(tmp_path / "idx")
    built = run("build", "--corpus", str(tiny_corpus), "--index", idx, "-q")
    assert built.exit_code == 0 and "Published" in built.output, built.output
    result = run("search", "I-131 diary", "--index", idx, "--json", "-k", "2")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["results"][0]["id"] == "apps/mi-jian#what-you-will-find"


def test_search_without_index_says_what_to_do(tmp_path):
    result = run("search", "hello", "--index", str(tmp_path / "none"))
    assert result.exit_code == 1 and "beacon build" in result.output


def test_eval_prints_each_mode_side_by_side(tmp_path, guide_index):
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "- {q: 观星镜, expect: [online/skyglass]}\n"
        "- {q: dark sky circle volunteers, expect: [international/dark-sky-circle]}\n"
        "- {q: easy chocolate cake recipe, expect: []}\n",
        encoding="utf-8",
    )
    table = run("eval", "--index", str(guide_index), "--questions", str(questions))
    assert table.exit_code == 0, table.output
    assert "hit@1" in table.output and "MRR@10" in table.output
    assert all(mode in table.output for mode in ("dense", "lexical", "hybrid"))
    result = run("eval", "--index", str(guide_index), "--questions", str(questions), "--json")
    hybrid = json.loads(result.output)[str(questions)]["hybrid"]
    assert (hybrid["questions"], hybrid["answerable"]) == (3, 2)
    assert hybrid["hit1"] == 1.0 and hybrid["no_answer_recall"] == 1.0


def test_eval_rejects_a_question_file_that_is_not_a_list(tmp_path, guide_index):
    bad = tmp_path / "bad.yaml"
    bad.write_text("q: just one mapping\n", encoding="utf-8")
    result = run("eval", "--index", str(guide_index), "--questions", str(bad))
    assert result.exit_code == 1 and "not a list of questions" in result.output


def test_eval_skips_and_counts_questions_whose_pages_are_not_in_the_index(tmp_path, guide_index):
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "- {q: 观星镜, expect: [online/skyglass]}\n"
        "- {q: how do I read a file line by line, expect: [tutorial/inputoutput]}\n",
        encoding="utf-8",
    )
    table = run("eval", "--index", str(guide_index), "--questions", str(questions))
    assert table.exit_code == 0, table.output
    assert "(1 questions, 1 answerable); 1 skipped: no expected page in this index" in table.output
    result = run("eval", "--index", str(guide_index), "--questions", str(questions), "--json")
    hybrid = json.loads(result.output)[str(questions)]["hybrid"]
    assert (hybrid["questions"], hybrid["skipped"], hybrid["hit1"]) == (1, 1, 1.0)


def test_search_json_is_the_apis_answer(guide_index, guide_app_client):
    """One builder (SearchOut.of) for both: the CLI's JSON has the API's keys and the same passages."""
    question = "where can I talk to people about H-alpha"
    # The same encoder as the in-process app's (the embedder fixture: fp32 ONNX).
    cli = json.loads(
        run("search", question, "--index", str(guide_index), "--json", "-k", "5", env={"BEACON_ENCODER": "onnx"}).output
    )
    api = guide_app_client.get("/api/search", params={"q": question, "k": 5}).json()
    assert set(cli) == set(api)
    assert set(cli["results"][0]) == set(api["results"][0])
    assert [r["id"] for r in cli["results"]] == [r["id"] for r in api["results"]]
    assert cli["answer"] == api["answer"]
    assert cli["results"][0]["url"].startswith("/source/")  # no public URL: where `beacon serve` shows it
