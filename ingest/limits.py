"""How much of one corpus file Beacon reads: caps that bound the time and memory a hostile file can
take. A file over a cap is that file's error line (docs/security.md, 'Files Beacon reads')."""

from __future__ import annotations

MB = 1_000_000
# Bytes per file, by type, checked before the file is read. Markdown, reStructuredText and text are
# parsed in Python (markdown-it-py read 0.5 MB in 1.05 s on the 2-core build machine, so a 5 MB file
# takes ~10 s); lexbor parses HTML in C (Python's largest page, contents.html, 2.6 MB, in 0.06 s), so a
# built page may be bigger; a PDF is mostly images and fonts Beacon never decodes.
MAX_FILE_BYTES = {
    ".md": 5 * MB,
    ".markdown": 5 * MB,
    ".txt": 5 * MB,
    ".rst": 5 * MB,
    ".html": 20 * MB,
    ".htm": 20 * MB,
    ".pdf": 100 * MB,
}
# Elements nested deeper than this (counted before parsing) make a page an error: lexbor's tree
# building is quadratic in depth (10,000 levels 0.17 s, 40,000 levels 2.9 s, 200,000 levels minutes),
# and the section walk recurses once per level. Browsers stop nesting at 512 too (Blink's HTML parser);
# Python's docs nest at most a few dozen deep.
MAX_HTML_DEPTH = 512
# Pages per PDF: text extraction costs time per page, and a page tree can repeat one page endlessly.
MAX_PDF_PAGES = 2_000
# Bytes one PDF stream may decompress to (a flate bomb: 80 MB of spaces fit in 80 kB). pypdf stops at
# its own cap; Beacon sets it to this where pypdf lets it be set (pypdf 7's Configuration).
MAX_PDF_STREAM_BYTES = 20 * MB
