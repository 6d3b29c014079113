"""HTML guides to Markdown (pure, standard library only).

Headings, paragraphs, line breaks, bold and italics, links, images, lists, code and
preformatted blocks, quotes and tables become Markdown; every other tag is dropped with
its text kept, and scripts, styles and the like with their content. The Markdown is
sanitised again when shown (helpdesk.kb.render), so nothing here has to be trusted.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

_DROP_WITH_CONTENT = {"script", "style", "head", "template", "noscript", "iframe", "object",
                      "svg", "math", "form", "button", "select", "textarea"}
_BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "figure", "table",
           "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "tr",
           "dl", "dd", "dt", "figcaption", "aside", "nav"}


class _Converter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.drop = 0
        self.lists: list[list] = []  # [kind, counter]
        self.pre = 0
        self.links: list[str | None] = []
        self.title = ""
        self._in_title = False
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.table_rows: list[list[str]] = []
        self.quote = 0

    # -- output helpers
    def _emit(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        else:
            self.out.append(text)

    def _block(self) -> None:
        if self.cell is None:
            self.out.append("\n\n" + ("> " * self.quote))

    # -- parser callbacks
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in_title = True
        if tag in _DROP_WITH_CONTENT or self.drop:
            self.drop += tag in _DROP_WITH_CONTENT
            return
        if tag in _BLOCKS and tag not in ("tr",):
            self._block()
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._emit("#" * int(tag[1]) + " ")
        elif tag == "br":
            self._emit("  \n" if self.cell is None else " ")
        elif tag == "hr":
            self._emit("---")
        elif tag in ("strong", "b"):
            self._emit("**")
        elif tag in ("em", "i"):
            self._emit("*")
        elif tag == "code" and not self.pre:
            self._emit("`")
        elif tag == "pre":
            self.pre += 1
            self._emit("```\n")
        elif tag == "blockquote":
            self.quote += 1
            self._block()
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
        elif tag == "li":
            depth = max(len(self.lists) - 1, 0)
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            marker = f"{kind[1]}." if kind[0] == "ol" else "-"
            self.out.append("\n" + "   " * depth + marker + " ")
        elif tag == "a":
            href = _safe_url(a.get("href"))
            self.links.append(href)
            if href:
                self._emit("[")
        elif tag == "img":
            alt = (a.get("alt") or "").replace("]", "")
            src = _safe_url(a.get("src"))
            if src:
                self._emit(f"![{alt}]({src})")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if self.drop:
            self.drop -= tag in _DROP_WITH_CONTENT
            return
        if tag in ("strong", "b"):
            self._emit("**")
        elif tag in ("em", "i"):
            self._emit("*")
        elif tag == "code" and not self.pre:
            self._emit("`")
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
            self._emit("\n```")
        elif tag == "blockquote":
            self.quote = max(self.quote - 1, 0)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self._emit(f"]({href})")
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()).replace("|", "\\|"))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.table_rows.append(self.row)
            self.row = None
        elif tag == "table":
            self._flush_table()
        if tag in _BLOCKS:
            self._block()

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self.drop or self._in_title:
            return
        if self.pre:
            self._emit(data)
        else:
            text = re.sub(r"\s+", " ", data)
            self._emit(re.sub(r"([\\`*_\[\]#<>])", r"\\\1", text))

    def _flush_table(self):
        rows, self.table_rows = self.table_rows, []
        if not rows:
            return
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        self.out.append("\n\n" + "\n".join(lines) + "\n\n")


_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*):", re.I)


def _safe_url(url: str | None) -> str:
    """The URL written for Markdown, or "" when its scheme is not http(s) or mailto."""
    url = (url or "").strip()
    scheme = _SCHEME.match(url)
    if not url or (scheme and scheme.group(1).lower() not in ("http", "https", "mailto")):
        return ""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def to_markdown(html: str) -> tuple[str, str]:
    """(Markdown, the document's <title>) of an HTML guide."""
    parser = _Converter()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.out)
    lines = [line.rstrip() if not line.endswith("  ") else line for line in text.split("\n")]
    markdown = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    markdown = re.sub(r"(?m)^(> )+$", "", markdown)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n", " ".join(parser.title.split())
