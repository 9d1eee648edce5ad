"""Chunking: one chunk per section, long sections split at sentence ends within the token budget."""

from __future__ import annotations

import re

from ingest import chunk_documents, load_corpus
from tests.helpers import write_corpus


def words(text: str) -> int:
    return len(text.split()) + 2  # a stand-in tokenizer for the pure-splitting tests


def test_one_chunk_per_section_with_stable_ids_and_context(tiny_corpus):
    chunks = chunk_documents(load_corpus(tiny_corpus), 256, words)
    ids = [c.id for c in chunks]
    assert "apps/mi-jian#what-you-will-find" in ids
    c = next(c for c in chunks if c.id == "apps/mi-jian#what-you-will-find")
    assert c.title == "Mi Jian app" and c.section == "What you will find"
    assert c.aliases == ("觅健",) and c.links[0].url == "https://example.org/mijian"
    assert c.embedding_text().startswith("Mi Jian app — What you will find: ")
    assert ids == [c.id for c in chunk_documents(load_corpus(tiny_corpus), 256, words)]


def test_long_section_splits_at_sentence_ends_and_keeps_all_text(tmp_path, embedder):
    sentences = [f"Sentence number {i} talks about patient groups and radioactive iodine therapy." for i in range(120)]
    body = "---\ntitle: Long\n---\n## Many\n" + " ".join(sentences) + "\n"
    doc = load_corpus(write_corpus(tmp_path / "c", {"long.md": body}))
    chunks = chunk_documents(doc, embedder.max_tokens, embedder.count_tokens)
    assert len(chunks) > 1
    for c in chunks:
        assert embedder.count_tokens(c.embedding_text()) <= embedder.max_tokens
        assert c.text.endswith("therapy.")  # never mid-sentence
    assert " ".join(c.text for c in chunks) == " ".join(sentences)
    assert [c.id for c in chunks][:2] == ["long#many", "long#many~2"]


def test_a_split_section_does_not_end_in_a_one_sentence_scrap(tmp_path, embedder):
    # Filling each passage in turn left the last sentence or two on their own: on Django's docs a
    # 34-character code scrap answered "how can I run raw SQL queries".
    sentences = [f"Sentence number {i} talks about patient groups and radioactive iodine therapy." for i in range(23)]
    count = embedder.count_tokens
    doc = load_corpus(
        write_corpus(tmp_path / "c", {"long.md": "---\ntitle: Long\n---\n## Many\n" + " ".join(sentences) + "\n"})
    )
    whole = chunk_documents(doc, 10_000, count)[0]  # one passage; what its title and heading cost
    heading = count(whole.embedding_text()) - count(whole.text)
    # A window that holds 21 of the 23 sentences: two passages, not 21 sentences and then 2.
    chunks = chunk_documents(doc, count(" ".join(sentences[:21])) + heading + 2, count)
    assert len(chunks) == 2
    assert [c.text.count("Sentence number") for c in chunks] in ([12, 11], [11, 12])
    assert " ".join(c.text for c in chunks) == " ".join(sentences)
    # A last piece that is not a scrap is left as filling gives it: 15 sentences a window, 15 then 8.
    chunks = chunk_documents(doc, count(" ".join(sentences[:15])) + heading + 2, count)
    assert [c.text.count("Sentence number") for c in chunks] == [15, 8]


def test_pieces_are_the_fewest_that_fit_and_a_scrap_at_the_end_is_balanced():
    """Against every way of cutting a short run of units as the chunker makes them: sentences, and code
    blocks cut into lines, where a piece that starts or ends inside a block pays the fence it adds
    there. A block's first line holds its opening line and its last line the closing fence, so a piece
    never costs less for holding one more unit: what makes filling in turn the fewest pieces."""
    from itertools import combinations

    from hypothesis import given
    from hypothesis import strategies as st

    from ingest.chunking import SCRAP, _filled_ranges, _ranges

    sentence = st.integers(0, 30).map(lambda size: [(size, 0, 0)])

    @st.composite
    def code_block(draw):
        fence = draw(st.integers(1, 4))
        lines = draw(st.lists(st.integers(0, 30), min_size=2, max_size=3))
        lines[0] += fence  # the opening line
        lines[-1] += fence  # the closing fence
        last = len(lines) - 1
        return [(size, fence if n else 0, fence if n < last else 0) for n, size in enumerate(lines)]

    runs = st.lists(st.one_of(sentence, code_block()), min_size=1, max_size=3)

    @given(runs.map(lambda found: [unit for run in found for unit in run]), st.integers(10, 60))
    def check(units, room):
        sizes, opens, closes = (list(column) for column in zip(*units))

        def cost(a, b):
            return opens[a] + sum(sizes[a:b]) + closes[b - 1]

        def fits(a, b):
            return b - a == 1 or cost(a, b) <= room

        ranges = _ranges(sizes, room, opens, closes)
        assert ranges[0][0] == 0 and ranges[-1][1] == len(units)
        assert all(a < b and fits(a, b) for a, b in ranges)
        assert all(ranges[i][1] == ranges[i + 1][0] for i in range(len(ranges) - 1))
        fewest = min(
            n + 1
            for n in range(len(units))
            for cuts in combinations(range(1, len(units)), n)
            if all(fits(a, b) for a, b in zip((0, *cuts), (*cuts, len(units))))
        )
        assert len(ranges) == fewest
        filled = _filled_ranges(len(units), fits)
        if len(filled) > 1 and cost(*filled[-1]) < room * SCRAP:
            (start, _), (_, end) = ranges[-2], ranges[-1]
            evenest = min(
                cost(start, c) ** 2 + cost(c, end) ** 2
                for c in range(start + 1, end)
                if fits(start, c) and fits(c, end)
            )
            assert cost(*ranges[-2]) ** 2 + cost(*ranges[-1]) ** 2 == evenest
            assert ranges[:-2] == filled[:-2]
        else:
            assert ranges == filled

    check()


def test_a_split_section_keeps_its_line_breaks_so_code_and_prose_stay_separate_sentences(tmp_path, embedder):
    from ingest.text import split_sentences

    block = (
        "You can read one line at a time with readline(), which returns the next line of the file.\n\n"
        "$ python3 -c 'print(open(\"notes.txt\").readline())'\n\n"
        'For reading lines from a file, you can loop over the file object ("for line in f").\n\n'
    )
    doc = load_corpus(write_corpus(tmp_path / "c", {"io.md": "---\ntitle: Files\n---\n## Lines\n" + block * 12}))
    chunks = chunk_documents(doc, embedder.max_tokens, embedder.count_tokens)
    assert len(chunks) > 1
    for c in chunks:
        for sentence in split_sentences(c.text):
            code, prose = sentence.startswith("$ python3"), "loop over" in sentence or "one line at a time" in sentence
            assert code != prose, sentence  # each sentence is code or prose, never both
    assert '("for line in f").' in chunks[0].text  # the bracket after the full stop is kept


def test_chinese_text_splits_at_chinese_full_stops(tmp_path, embedder):
    sentence = "甲状腺癌患者可以在觅健的病友群里分享碘131治疗日记和手术经验。"
    doc = load_corpus(write_corpus(tmp_path / "c", {"zh.md": "---\ntitle: 中文\n---\n" + sentence * 40 + "\n"}))
    chunks = chunk_documents(doc, embedder.max_tokens, embedder.count_tokens)
    assert len(chunks) > 1
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(re.sub(r"\s", "", c.text) for c in chunks) == sentence * 40


def test_each_part_of_a_split_section_links_to_the_entry_it_starts_under():
    from ingest.chunking import chunk_document
    from ingest.models import Document, Section

    lines, targets = ["The functions of this module, one entry each."], []
    for name in ("alpha", "beta", "gamma", "delta"):
        targets.append((len(lines), f"mod.{name}"))
        lines.append(f"mod.{name}(value)")
        lines += [f"The {name} function turns value {i} into a {name} result." for i in range(12)]
    section = Section(("Functions",), "functions", "\n".join(lines), "", 1, targets=tuple(targets))
    doc = Document("mod", "mod.html", "mod", (), (), (), None, (section,), "0")
    chunks = chunk_document(doc, 60, words)
    assert len(chunks) > 4
    assert chunks[0].target == ""  # starts with the section's own words, before any entry
    for c in chunks[1:]:
        # The entry whose words the part starts with (a part may start at its signature line).
        first = re.search(r"mod\.(\w+)\(|The (\w+) function", c.text)
        assert c.target == f"mod.{first.group(1) or first.group(2)}", (c.target, c.text[:60])
    for c in chunks:
        # The entries that start inside a part are found at their offset (in non-space characters).
        solid = "".join(c.text.split())
        assert [anchor for _, anchor in c.targets] == [f"mod.{n}" for n in re.findall(r"mod\.(\w+)\(", c.text[1:])]
        for offset, anchor in c.targets:
            assert solid[offset:].startswith(f"{anchor}(value)"), (offset, anchor, solid[offset : offset + 20])


def test_a_code_block_stays_whole_in_one_passage_when_it_fits():
    from ingest.chunking import chunk_document
    from ingest.models import Document, Section

    code = "```sh\n" + "\n".join(f"pyenv install 3.{n}.0" for n in range(6)) + "\n```"
    prose = [f"Sentence {n} explains why each version is installed on its own." for n in range(8)]
    text = "\n".join(prose[:4] + [code] + prose[4:])
    doc = Document("d", "d.md", "D", (), (), (), None, (Section(("S",), "s", text, "", 1),), "0")
    chunks = chunk_document(doc, 60, words)
    assert len(chunks) > 1
    holding = [c for c in chunks if "pyenv install" in c.text]
    assert len(holding) == 1 and code in holding[0].text


def test_a_code_block_longer_than_the_budget_is_cut_between_lines_each_piece_fenced():
    from ingest.chunking import chunk_document
    from ingest.models import Document, Section
    from ingest.text import split_blocks

    lines = [f"value_{n} = compute({n}, option=True)" for n in range(40)]
    text = "Intro line.\n```python\n" + "\n".join(lines) + "\n```\nAfter the code."
    # Lines of text: value_25 is 27 (inside the third of four even pieces, after the fences added to
    # the ones before), the prose after 43.
    targets = ((0, "intro"), (27, "value-25"), (43, "after"))
    section = Section(("S",), "s", text, "", 1, targets=targets)
    chunks = chunk_document(Document("d", "d.md", "D", (), (), (), None, (section,), "0"), 60, words)
    code_lines = []
    for c in chunks:
        for block in split_blocks(c.text):
            if block.code:
                assert block.lang == "python" and block.text.endswith("\n```")  # every piece is a whole block
                code_lines += block.body.split("\n")
    assert code_lines == lines  # nothing lost, nothing repeated, in order
    # The finer link targets still point at their own line, though fences were added before them.
    for c in chunks:
        solid = "".join(c.text.split())
        for offset, anchor in c.targets:
            expected = {"value-25": "value_25=", "after": "Afterthe"}[anchor]
            assert solid[offset:].startswith(expected), (anchor, solid[offset : offset + 12])
    assert [a for c in chunks for _, a in c.targets] == ["value-25", "after"]
