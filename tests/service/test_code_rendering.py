"""Code in a passage or an answer renders as a code block, with everything escaped first."""

from __future__ import annotations

from service.highlight import passage_html


def test_code_blocks_render_as_pre_code_and_prose_as_paragraphs():
    text = "Run it:\n```sh\npyenv virtualenv 2.7.10 my-env\n```\nThen activate it."
    html = str(passage_html(text, "virtualenv activate"))
    assert html == (
        '<p>Run it:</p><pre><code class="language-sh">pyenv <mark>virtualenv</mark> 2.7.10 my-env</code></pre>'
        "<p>Then <mark>activate</mark> it.</p>"
    )


def test_code_and_its_language_are_escaped_before_markup_is_added():
    text = 'Bad:\n```"><script>\n<script>alert("x")</script> & </code></pre>\n```'
    html = str(passage_html(text, "script"))
    assert "<script" not in html and "</code></pre>" == html[-len("</code></pre>") :]
    assert html.count("<pre>") == 1 and "&lt;<mark>script</mark>&gt;alert" in html
    assert 'class="language-&#34;&gt;&lt;script&gt;"' in html


def test_an_answer_across_prose_and_code_is_marked_in_both():
    text = "Create one:\n```\npyenv virtualenv 2.7 venv\n```\nIt lands in versions. Done."
    html = str(passage_html(text, "", "```\npyenv virtualenv 2.7 venv\n``` It lands in versions."))
    assert '<pre><code><strong class="answer-span">pyenv virtualenv 2.7 venv</strong></code></pre>' in html
    assert '<p><strong class="answer-span">It lands in versions.</strong> Done.</p>' in html
    assert html.startswith("<p>Create one:</p>")  # nothing before the answer is marked
