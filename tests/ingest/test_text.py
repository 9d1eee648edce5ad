"""The one form of a code block in a section's text (ingest/text.py), which every reader writes and the
chunker, the answer's sentences and the page read back."""

from __future__ import annotations

from ingest.text import Block, code_block, split_blocks, split_sentences


def test_text_splits_into_prose_and_code_blocks_and_joins_back():
    text = "Install it:\n```sh\npip install beacon\n\n# done. Really.\n```\nThen run it. It works."
    blocks = split_blocks(text)
    assert blocks == [
        Block("Install it:"),
        Block("```sh\npip install beacon\n\n# done. Really.\n```", code=True, lang="sh"),
        Block("Then run it. It works."),
    ]
    assert blocks[1].body == "pip install beacon\n\n# done. Really."
    assert "\n".join(b.text for b in blocks) == text


def test_a_code_block_is_one_sentence_and_prose_around_it_splits_as_before():
    text = "Install it:\n```sh\npip install beacon\n# done. Really.\n```\nThen run it. It works."
    assert split_sentences(text) == [
        "Install it:",
        "```sh\npip install beacon\n# done. Really.\n```",
        "Then run it.",
        "It works.",
    ]


def test_code_holding_a_fence_gets_a_longer_one_and_reads_back_whole():
    markdown_example = "Write:\n```\ncode\n```"
    block = code_block(markdown_example, "markdown")
    assert block.startswith("````markdown\n") and block.endswith("\n````")
    (read,) = split_blocks(block)
    assert read.code and read.body == markdown_example and read.lang == "markdown"


def test_a_fence_never_closed_runs_to_the_end():
    (prose, code) = split_blocks("Cut here:\n```py\nx = 1\ny = 2")
    assert prose.text == "Cut here:" and code.code and code.body == "x = 1\ny = 2"


def test_heading_slugs_are_the_ones_mkdocs_and_github_publish():
    from ingest.text import slugify

    assert slugify("Use `CORSMiddleware`") == "use-corsmiddleware"
    assert slugify("The allow_origins list") == "the-allow_origins-list"  # underscores stay
    assert slugify("CORS (Cross-Origin Resource Sharing)") == "cors-cross-origin-resource-sharing"
    assert slugify("甲状腺癌 病友群") == "甲状腺癌-病友群"
