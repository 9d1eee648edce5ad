"""A real site nobody here wrote, end to end over HTTP: pages of Python's own documentation as Debian
ships them (python3-doc, installed by `make system`), read in place with a site file kept elsewhere,
served by a real uvicorn, answering with links to the right docs.python.org page and section."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from index import build_index
from ingest import load_site
from service.app import create_app
from tests.helpers import ROOT, LiveServer, make_settings

pytestmark = [pytest.mark.server, pytest.mark.model]

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
# A few tutorial and FAQ pages rather than all 26 of them: the same reader, a quarter of the build time.
PAGES = ["tutorial/inputoutput.html", "tutorial/errors.html", "tutorial/classes.html", "faq/general.html"]


@pytest.fixture(scope="module")
def python_docs_server(tmp_path_factory, embedder):
    if not (PYTHON_DOCS / PAGES[0]).is_file():
        pytest.skip("Python's docs are not installed: run 'make system' (apt-get install python3-doc)")
    root = tmp_path_factory.mktemp("pydocs")
    settings_file = root / "python-docs.toml"
    example = (ROOT / "examples" / "python-docs.toml").read_text(encoding="utf-8")
    include = "include = [" + ", ".join(f'"{p}"' for p in PAGES) + "]\n"
    settings_file.write_text(example.replace("exclude = [", include + "exclude = [", 1), encoding="utf-8")
    site = load_site(PYTHON_DOCS, settings_file)
    report = build_index(PYTHON_DOCS, root / "index", embedder, site=site)
    assert report.documents == len(PAGES) and not report.errors
    settings = make_settings(root / "index", PYTHON_DOCS, site_config=settings_file)
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        yield server


def test_answer_links_to_the_right_page_and_section_of_docs_python_org(python_docs_server):
    with httpx.Client(base_url=python_docs_server.url, timeout=30) as client:
        body = client.get("/api/search", params={"q": "how do I read a file line by line"}).json()
        assert body["answer"] is not None
        top = body["results"][body["answer"]["result"]]
        assert top["url"] == "https://docs.python.org/3.11/tutorial/inputoutput.html#methods-of-file-objects", top
        # "Handling Exceptions" and "Raising and Handling Multiple Unrelated Exceptions" (whose
        # example is also a try/except) are a near tie for this question (cosine 0.555 and 0.561;
        # 0.5613 and 0.5612 before the passages kept a quote closed after a full stop), so the test
        # asks for the right page first and the right section among the first three, not for a
        # coin toss between two sections of it.
        caught = client.get("/api/search", params={"q": "how do I catch an exception"}).json()
        urls = [r["url"] for r in caught["results"]]
        assert urls[0].startswith("https://docs.python.org/3.11/tutorial/errors.html#"), urls
        assert "https://docs.python.org/3.11/tutorial/errors.html#handling-exceptions" in urls[:3], urls
        page = client.get("/", params={"q": "how do I read a file line by line"}).text
        assert 'href="https://docs.python.org/3.11/tutorial/inputoutput.html#methods-of-file-objects"' in page
        assert "Answers from Python&#39;s documentation" in page and "thyroid" not in page.lower()


def test_off_topic_question_gets_no_answer(python_docs_server):
    with httpx.Client(base_url=python_docs_server.url, timeout=30) as client:
        body = client.get("/api/search", params={"q": "best chocolate cake recipe"}).json()
        assert body["answer"] is None
        page = client.get("/", params={"q": "best chocolate cake recipe"}).text
        assert "Python&#39;s documentation does not answer that question directly" in page
