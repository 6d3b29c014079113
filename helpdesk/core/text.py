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


def like_pattern(term: str) -> str:
    """A LIKE pattern (escape char ``\\``) matching the folded term anywhere."""
    folded = fold(term)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
