"""Over a real server: a symlink out of the content folder never publishes what it points at, and a
file name with control characters never becomes a link that 404s."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import LiveServer, make_settings, write_corpus
from tests.ingest.test_hostile_files import SECRET, hostile_links

GROUP = "# Zebrafish group\n\nA zebrafish support group meets every Tuesday in the hall.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    from index import build_index
    from service.app import create_app

    tmp = tmp_path_factory.mktemp("links")
    root = hostile_links(tmp)
    write_corpus(
        root,
        {
            "zebra.md": GROUP,
            "new\nline.md": "# Newline name\n\nThe heron watching club meets at the lake on Sundays.\n",
            "tab\tname.md": "# Tab name\n\nThe heron watching club brings binoculars.\n",
        },
    )
    (root / "beacon.toml").write_text('on_error = "skip"\n', encoding="utf-8")
    report = build_index(root, tmp / "index", embedder)
    with LiveServer(create_app(make_settings(tmp / "index", root), embedder=embedder)) as live:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            yield client, report


@pytest.mark.parametrize("doc_id", ["passwd", "env", "docs/leak", "dotenv", "pipe", "nul"])
def test_links_out_of_the_folder_and_special_files_are_not_served(server, doc_id):
    client, _ = server
    reply = client.get(f"/source/{doc_id}")
    assert reply.status_code == 404, reply.text[:300]
    assert "root:x:0" not in reply.text and SECRET not in reply.text


@pytest.mark.parametrize("question", ["aws secret access key", "root x 0 0 root /bin/bash", "PATH HOME USER"])
def test_search_never_finds_what_a_link_points_at(server, question):
    client, _ = server
    body = client.get("/api/search", params={"q": question}).json()
    ids = {r["id"].split("#")[0] for r in body["results"]}
    assert not ids & {"passwd", "env", "docs/leak", "dotenv", "nul"}, ids
    assert SECRET not in str(body) and "root:x:0" not in str(body)


def test_a_link_inside_the_folder_is_served(server):
    client, report = server
    reply = client.get("/source/inside")
    assert reply.status_code == 200 and "Rehabilitation lectures" in reply.text
    assert report.errors and all("nul.html" in e for e in report.errors)  # the build went on past it


def test_a_name_with_control_characters_never_gives_a_link_that_404s(server):
    client, report = server
    page = client.get("/", params={"q": "heron watching club"})
    api = client.get("/api/search", params={"q": "heron watching club"}).json()
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]*/source/[^"]*)"', page.text)]
    hrefs += [r["url"] for r in api["results"]]
    assert hrefs
    for href in hrefs:
        assert client.get(urlsplit(href).path).status_code == 200, href
    assert not [r["id"] for r in api["results"] if "\n" in r["id"] or "\t" in r["id"]]
    reasons = dict(report.skipped.refused)
    assert reasons["content/new\\nline.md"] == "file name has control characters (a newline, a tab...)"
    assert reasons["content/tab\\tname.md"] == "file name has control characters (a newline, a tab...)"
