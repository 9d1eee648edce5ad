"""Cleaning what readers type before it reaches the index."""

from __future__ import annotations

import re
import unicodedata

from ingest.errors import BeaconError


class QueryError(BeaconError):
    """A question the service cannot take as given; answered with a 422 and this reason."""

    status = 422


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean_query(raw: str | None, max_chars: int) -> str:
    """NFKC-normalise (full-width → ASCII, so Ｉ－１３１ matches I-131), drop control characters, trim."""
    if raw and "\ufffd" in raw:
        # What a decoder leaves for bytes that are not UTF-8 (a %FF in the URL): nothing to search for.
        raise QueryError("the question is not valid UTF-8 text", "send the question as UTF-8, percent-encoded")
    text = unicodedata.normalize("NFKC", raw or "")
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        raise QueryError("the question is empty", "type a few words, e.g. 'where can I talk to people about I-131'")
    if len(text) > max_chars:
        raise question_too_long(len(text), max_chars)
    return text


def question_too_long(length: int, max_chars: int) -> QueryError:
    """The one way of saying a question is too long: past BEACON_MAX_QUERY_CHARS, or past the API schema's cap."""
    return QueryError(
        f"the question is {length} characters long; the limit is {max_chars}", "shorten it to the key words"
    )
