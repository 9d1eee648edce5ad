"""A version whose files were changed after the build, hashes and all, still cannot put a javascript:
link on a page or in the API: links read back from an index are re-checked when it is loaded."""

from __future__ import annotations

import hashlib
import os
import re
from html import unescape

import orjson
import pytest
from starlette.testclient import TestClient

from tests.helpers import LOCAL, TINY, make_settings, write_corpus

HOSTILE = ["javascript:alert(1)", "java\tscript:alert(2)", "\x01JavaScript:alert(3)", "data:text/html,<b>hi</b>"]
KEPT = ["https://example.org/kept", "mailto:desk@example.org", "tel:+1-555-0100", "/source/apps/mi-jian"]


def _rewrite(directory, name: str, change) -> str:
    """Rewrite one file of a published version and return its new SHA-256, as someone with write access to
    the index folder or bucket would (the manifest is then rewritten to match)."""
    path = directory / name
    os.chmod(path, 0o644)
    data = orjson.dumps(change(orjson.loads(path.read_bytes())))
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def client(tmp_path_factory, embedder):
    from index import build_index
    from index.publish import current_dir
    from service.app import create_app

    root = tmp_path_factory.mktemp("tampered")
    corpus = write_corpus(root / "corpus", TINY)
    build_index(corpus, root / "index", embedder)
    version = current_dir(root / "index")
    os.chmod(version, 0o755)
    links = [{"text": f"link {i}", "url": url} for i, url in enumerate(HOSTILE + KEPT)]

    def chunks(items):
        return [{**c, "links": links} for c in items]

    def documents(items):
        return [{**d, "url": "javascript:alert(4)", "links": links} for d in items]

    manifest = orjson.loads((version / "manifest.json").read_bytes())
    manifest["files"]["chunks.json"] = _rewrite(version, "chunks.json", chunks)
    manifest["files"]["documents.json"] = _rewrite(version, "documents.json", documents)
    os.chmod(version / "manifest.json", 0o644)
    (version / "manifest.json").write_bytes(orjson.dumps(manifest))
    with TestClient(create_app(make_settings(root / "index", corpus), embedder=embedder), base_url=LOCAL) as c:
        yield c


def _hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', html)]


def _hostile(url: str) -> bool:
    return any(s in re.sub(r"[\x00-\x20]", "", url).lower() for s in ("javascript:", "data:"))


def test_a_tampered_index_puts_no_javascript_link_on_the_page(client):
    page = client.get("/", params={"q": "Mi Jian app cancer communities"})
    assert page.status_code == 200
    hrefs = _hrefs(page.text)
    assert "https://example.org/kept" in hrefs  # the passage and its links are shown...
    assert not [h for h in hrefs if _hostile(h)]  # ...without the hostile ones
    assert any("/source/apps/mi-jian" in h for h in hrefs)  # a hostile page URL falls back to /source/


def test_a_tampered_index_puts_no_javascript_link_on_its_source_page(client):
    page = client.get("/source/apps/mi-jian")
    assert page.status_code == 200
    hrefs = _hrefs(page.text)
    assert "mailto:desk@example.org" in hrefs and "tel:+1-555-0100" in hrefs
    assert not [h for h in hrefs if _hostile(h)]


def test_a_tampered_index_puts_no_javascript_link_in_the_api(client):
    body = client.get("/api/search", params={"q": "Mi Jian app cancer communities"}).json()
    urls = [r["url"] for r in body["results"]] + [l["url"] for r in body["results"] for l in r["links"]]
    assert "https://example.org/kept" in urls
    assert not [u for u in urls if _hostile(u)]
