"""Over a real server: a symlink out of the content folder never publishes what it points at, and a
file name with control characters never becomes a link that 404s."""

from __future__ import annotations

import os
import re
from html import unescape
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import LiveServer, beacon_env, free_port, make_settings, start_beacon, wait_until_ok, write_corpus
from tests.ingest.test_hostile_files import SECRET, hostile_links

pytestmark = [pytest.mark.server, pytest.mark.model]
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


def _hostile_site(root, index, on_error: str, embedder):
    """A built site whose index went stale when hostile files arrived beside its pages."""
    from index import build_index

    write_corpus(root, {"zebra.md": GROUP})
    (root / "beacon.toml").write_text(f'on_error = "{on_error}"\n', encoding="utf-8")
    build_index(root, index, embedder)
    (root / "deep.html").write_text("<html><body>" + "<div>" * 1200 + "x" + "</div>" * 1200 + "</body></html>")
    (root / os.fsdecode(b"caf\xe9.md")).write_text(GROUP, encoding="utf-8")
    (root / "passwd.txt").symlink_to("/etc/passwd")
    return root


def test_serve_with_a_stale_index_and_hostile_files_starts_with_skip_and_says_why_not_with_stop(tmp_path, embedder):
    for on_error in ("skip", "stop"):
        corpus = _hostile_site(tmp_path / on_error / "content", tmp_path / on_error / "index", on_error, embedder)
        port = free_port()
        proc = start_beacon(
            "serve",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / on_error / "index"),
            "--port",
            str(port),
            env=beacon_env(BEACON_RATE_LIMIT_PER_MINUTE=0),
        )
        try:
            if on_error == "skip":
                wait_until_ok(proc, f"http://127.0.0.1:{port}")
                hits = httpx.get(f"http://127.0.0.1:{port}/api/search", params={"q": "zebrafish"}).json()["results"]
                assert hits and {h["id"].split("#")[0] for h in hits} == {"zebra"}
            else:
                proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        out = proc.stdout.read()
        assert "Traceback" not in out, out
        if on_error == "stop":
            assert proc.returncode == 1, out
            assert "content/deep.html: page has elements nested more than 512 elements deep" in out, out
        else:
            assert "Error (file left out): content/deep.html" in out, out
