"""Markdown to safe HTML, and to plain text (pure).

Articles are Markdown (CommonMark with tables and strikethrough, raw HTML allowed for
imported guides) rendered by markdown-it-py, then sanitised by nh3: no script, no event
attribute, no style, no javascript: or data: URL; links get rel="noopener noreferrer".
"""
from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
    ["table", "strikethrough"])

TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt",
        "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "kbd", "li", "mark", "ol", "p", "pre", "s", "samp", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "th": {"colspan", "rowspan", "align"}, "td": {"colspan", "rowspan", "align"},
              "ol": {"start"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|tr|pre|blockquote|dt|dd|table)>|<br\s*/?>", re.I)


def sanitise(raw_html: str) -> str:
    """Only the tags, attributes and URL schemes above; scripts and styles with content."""
    return nh3.clean(raw_html or "", tags=TAGS, attributes=ATTRIBUTES,
                     clean_content_tags={"script", "style"}, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer")


def to_html(markdown: str) -> Markup:
    """The article's body as HTML safe to put in a page."""
    return Markup(sanitise(_MD.render(markdown or "")))


def to_text(markdown: str) -> str:
    """The body's words without markup (search index and snippets), blocks on new lines."""
    rendered = _BLOCK_END.sub(lambda m: m.group(0) + "\n", sanitise(_MD.render(markdown or "")))
    text = html.unescape(nh3.clean(rendered, tags=set(), clean_content_tags={"script", "style"}))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
