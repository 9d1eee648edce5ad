"""Several sites served by one process: the server file that names them, each site's live index, and
one search over all of them, fused by each hit's calibrated confidence (docs/sites.md)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from index import SearchResult
from index.language import DEFAULT_LANGUAGE
from index.search import Answer
from ingest.errors import BeaconError

from .live import CachedSearch, IndexPoller, LiveIndex
from .query import QueryError

# A site's name is a path segment and a query value (?site=NAME), so it is kept to URL-safe words.
SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A 422 for an unknown site names at most this many of the known ones (a host may serve hundreds).
SHOWN_SITES = 10
# One request asks for at most this many sites (?site=a,b,...); each costs a search.
MAX_SITES_PER_REQUEST = 20


# A version's name: "3.12", "v2", "2026-spring".
VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


@dataclass(frozen=True)
class SiteEntry:
    """One site of the server file, or one version of a site that declares versions: its content folder
    and its own index folder."""

    name: str
    corpus: Path
    index: Path
    version: str | None = None  # None for a site without versions
    current: bool = True  # the version searched when a request names none
    site_file: Path | None = None  # its site settings when not the corpus's own beacon.toml (like --site)

    @property
    def key(self) -> str:
        """How requests and the build name it: NAME, or NAME@VERSION."""
        return self.name if self.version is None else f"{self.name}@{self.version}"


def load_sites_file(path: Path) -> dict[str, SiteEntry]:
    """The sites a server file names, in its order; paths are relative to the file.

    [sites.guide]
    corpus = "corpus"
    index = ".beacon/index"
    """
    path = Path(path)
    hint = "see docs/sites.md for the server file's form"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise BeaconError(f"{path}: no such server file", hint) from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BeaconError(f"{path}: {e}", hint) from e
    tables = data.get("sites")
    if not isinstance(tables, dict) or not tables:
        raise BeaconError(f"{path}: no [sites.NAME] tables", hint)
    sites = {}
    for name, table in tables.items():
        if not SITE_NAME.match(name):
            raise BeaconError(f"{path}: site name {name!r} must be lower-case letters, digits, '-' or '_'", hint)
        if not isinstance(table, dict):
            raise BeaconError(f'{path}: [sites.{name}] needs corpus = "folder"', hint)
        if "versions" in table:
            entries = _versions(path, name, table, hint)
        else:
            entries = [_entry(path, name, table, f"[sites.{name}]", hint)]
        sites.update((e.key, e) for e in entries)
    indexes = [s.index.resolve() for s in sites.values()]
    if len(set(indexes)) != len(indexes):
        raise BeaconError(f"{path}: two sites share an index folder", 'give each site its own index = "folder"')
    return sites


def _entry(path: Path, name: str, table: dict, where: str, hint: str, version: str | None = None, current=True):
    if not isinstance(table, dict) or not isinstance(table.get("corpus"), str):
        raise BeaconError(f'{path}: {where} needs corpus = "folder"', hint)
    if unknown := sorted(set(table) - {"corpus", "index", "site"}):
        raise BeaconError(f"{path}: {where} has unknown keys {', '.join(unknown)}", hint)
    index = table.get("index", f".beacon/sites/{name}" + (f"@{version}" if version else ""))
    site = table.get("site")
    if not isinstance(index, str) or not isinstance(site, (str, type(None))):
        raise BeaconError(f"{path}: {where} index and site must be names of a folder and a file", hint)
    site_file = path.parent / site if site else None
    return SiteEntry(name, path.parent / table["corpus"], path.parent / index, version, current, site_file)


def _versions(path: Path, name: str, table: dict, hint: str) -> list[SiteEntry]:
    """[sites.NAME] with current = "V" and a [sites.NAME.versions."V"] table per version."""
    versions, current = table["versions"], table.get("current")
    if unknown := sorted(set(table) - {"versions", "current"}):
        raise BeaconError(f"{path}: [sites.{name}] with versions has unknown keys {', '.join(unknown)}", hint)
    if not isinstance(versions, dict) or not versions:
        raise BeaconError(f'{path}: [sites.{name}.versions."V"] tables are missing', hint)
    if current not in versions:
        raise BeaconError(f"{path}: [sites.{name}] needs current = one of its versions ({', '.join(versions)})", hint)
    for version in versions:
        if not VERSION_NAME.match(version):
            raise BeaconError(f"{path}: version {version!r} of {name} must be letters, digits, '.', '-' or '_'", hint)
    return [_entry(path, name, t, f'[sites.{name}.versions."{v}"]', hint, v, v == current) for v, t in versions.items()]


@dataclass
class ServedSite:
    """A site being served: its live index, the cache in front of it, and the poller that swaps its versions."""

    name: str
    live: LiveIndex
    search: CachedSearch
    poller: IndexPoller | None = None
    version: str | None = None  # the site's version, for a site that declares versions
    current: bool = True

    @property
    def key(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"


def pick_sites(value: str | None, sites: dict[str, ServedSite], version: str | None = None) -> list[ServedSite]:
    """The sites a request names (`site=a,b`; `a@3.11` or `version=3.11` for a version), each site's current
    version unless one is named, all sites' current versions when it names none; an unknown name or version
    is a 422 listing a bounded number of the known ones."""
    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    if not names:
        if version:
            raise QueryError("version needs a site", "add site=NAME")
        return [s for s in sites.values() if s.current]
    if len(names) > MAX_SITES_PER_REQUEST:
        raise QueryError(f"at most {MAX_SITES_PER_REQUEST} sites per search, got {len(names)}")
    picked = []
    for name in dict.fromkeys(names):
        if "@" not in name and version:
            name = f"{name}@{version}"
        if name in sites:
            picked.append(sites[name])
            continue
        own = [s for s in sites.values() if s.name == name and s.current]
        if own:
            picked.extend(own)
            continue
        bare = name.split("@", 1)[0]
        versions = [s.version for s in sites.values() if s.name == bare and s.version]
        if versions:
            raise QueryError(
                f"site {bare!r} has no version {name.split('@', 1)[1][:32]!r}", f"its versions: {', '.join(versions)}"
            )
        known = sorted({s.name for s in sites.values()})
        shown = ", ".join(known[:SHOWN_SITES]) + (
            f" and {len(known) - SHOWN_SITES} more" if len(known) > SHOWN_SITES else ""
        )
        raise QueryError(f"unknown site {name[:64]!r}", f"this server has: {shown}; or leave site out")
    return picked


def site_tags(tags: frozenset[str] | None, site: ServedSite) -> tuple[bool, frozenset[str] | None]:
    """(whether the site can answer, the filters it knows): a site that knows none of the request's
    filters has no passage with any of them."""
    if not tags:
        return True, None
    own = tags & site.live.searcher.labels
    return bool(own), own or None


def fused_search(
    sites: list[ServedSite], query: str, k: int, tags: frozenset[str] | None = None
) -> tuple[SearchResult, list[ServedSite]]:
    """One search over several sites: each site's best k, merged by each hit's calibrated confidence
    (Hit.confidence, then Hit.answer_score) — comparable across sites, unlike the fused ranking scores,
    which depend on each site's size and weights. The answer is the most confident site's, if its
    passage is among the k kept. Returns the result and, per hit, the site it comes from."""
    pooled = []
    results = []
    for site in sites:
        answers, own = site_tags(tags, site)
        if not answers:
            continue
        result = site.search(query, k, tags=own)
        results.append((site, result))
        pooled.extend((hit, site, result) for hit in result.hits)
    pooled.sort(key=lambda p: (p[0].confidence, p[0].answer_score), reverse=True)
    kept = pooled[:k]
    answer = None
    best = max(
        ((site, r) for site, r in results if r.answer is not None), key=lambda p: p[1].answer.score, default=None
    )
    if best is not None:
        site, r = best
        source = r.hits[r.answer.result]
        for i, (hit, _, _) in enumerate(kept):
            if hit is source:
                answer = Answer(r.answer.text, i, r.answer.score)
    facets: dict[str, int] = {}
    for _, r in results:
        for label, count in r.facets.items():
            facets[label] = facets.get(label, 0) + count
    first = results[0][1] if results else None
    fused = SearchResult(
        query,
        [hit for hit, _, _ in kept],
        answer,
        corrected=first.corrected if first else None,
        lang=first.lang if first else DEFAULT_LANGUAGE,
        facets=facets,
    )
    return fused, [site for _, site, _ in kept]


def logged_site(result: SearchResult, hit_sites: list[ServedSite], searched: list[ServedSite]) -> str:
    """The one site a search over several goes to the curators' log under (its question, and its gap if
    nothing answered): the site of the answer, else of the most confident passage, else the first searched.
    Once, not once per site searched: a question answered by one site is no gap of the others, and a
    question asked of all sites counts once in the totals (docs/sites.md)."""
    if result.answer is not None:
        return hit_sites[result.answer.result].key
    return (hit_sites or searched)[0].key


def first_site(settings):
    """The settings with corpus_dir and index_dir set to the server file's first site (what the single-site
    parts — the admin rebuild, a request on a one-site view — work on); unchanged without a server file."""
    if not settings.sites_file:
        return settings
    first = next(s for s in load_sites_file(settings.sites_file).values() if s.current)
    return settings.model_copy(
        update={"corpus_dir": first.corpus, "index_dir": first.index, "site_config": first.site_file}
    )


def with_site(url: str, name: str) -> str:
    """A /source/ link that says which site's document it is (`?site=NAME`, before the anchor)."""
    path, hash_, anchor = url.partition("#")
    return f"{path}?site={name}{hash_}{anchor}"
