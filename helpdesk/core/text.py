"""Greek-aware text folding for accent- and case-insensitive search (pure)."""
import unicodedata

_FINAL_SIGMA = str.maketrans({"ς": "σ"})


def fold(text: str | None) -> str:
    """Lower-case, strip accents and diaeresis, unify final sigma and spaces.

    ``fold("ΕΚΤΥΠΩΤΗΣ") == fold("Εκτυπωτής") == fold("εκτυπωτης") == "εκτυπωτησ"``
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.translate(_FINAL_SIGMA).split())


def sort_key(text: str | None) -> tuple[str, str]:
    """Greek dictionary order for a label: accents and case do not count («Άγιος» sorts
    with «Α», before «Β»), the exact text breaks ties. Sort choices in Python with it: no
    database collation is needed (SQLite and PostgreSQL's C collation sort «Ά» after «Ω»)."""
    return fold(text), text or ""


def by_label(pairs, index: int = 1) -> list:
    """Choice tuples sorted the Greek way by their label (``pair[index]``)."""
    return sorted(pairs, key=lambda pair: sort_key(str(pair[index])))


def like_pattern(term: str) -> str:
    """A LIKE pattern (escape char ``\\``) matching the folded term anywhere."""
    folded = fold(term)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip(" '")
    return cleaned[:31].strip() or "1"
