"""What a school means by its answer to a resolved request (pure: no Flask, no database).

"Ευχαριστούμε πολύ, λειτουργεί!" confirms the resolution; "δεν λειτουργεί ακόμα,
ευχαριστώ" says it did not work; anything longer, asking something or adding facts
(«ευχαριστούμε, αλλά τώρα ο εκτυπωτής…») is new information. Only the new text counts:
quoted earlier messages and the signature are cut first. Greek with or without accents,
greeklish ("efxaristoume, ola kala") and English are read.

When in doubt the answer is ``NEW_FACTS``: the request is reopened, as any reply did
before, and a technician reads it. Confirming by mistake would close a request that is
not solved, so a thank-you must be short, say thanks or "it works", ask nothing and
deny nothing.
"""
from __future__ import annotations

import re
from enum import StrEnum

from helpdesk.core.text import fold


class Meaning(StrEnum):
    THANKS = "thanks"          #: it works / thank you: the school confirms the resolution
    NOT_SOLVED = "not_solved"  #: it still does not work
    NEW_FACTS = "new_facts"    #: something new to read (a question, more facts)


#: A thank-you longer than this (words of the new text) is read as new facts.
MAX_THANKS_WORDS = 35

# --- cutting the new text out of a reply -------------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^(?:on .{0,200}wrote:|στις .{0,200}(?:εγραψε|γραψατε|εγραψεσ):|am .{0,200}schrieb"
    r"|-{2,}\s*(?:original message|αρχικο μηνυμα|forwarded message|προωθημενο μηνυμα)"
    r"|(?:from|απο|von|sent|εσταλη|date|ημερομηνια):\s.+|_{10,})", re.IGNORECASE)
#: A line that starts the signature (folded): sign-offs, mobile footers, titles.
_SIGNATURE = re.compile(
    r"^(?:--\s*$|—\s*$|με (?:εκτιμηση|τιμη|φιλικουσ χαιρετισμουσ|φιλικους χαιρετισμους)"
    r"|me ektimisi|me timi|φιλικα|filika|χαιρετισμουσ|(?:best |kind |warm )?regards|"
    r"best wishes|cheers|sincerely|στα?λθηκε απο|εσταλη απο|απεσταλη απο|sent from my|"
    r"get outlook for|ο διευθυντησ|η διευθυντρια|ο/η διευθυντ|ο δ/ντησ|η δ/ντρια|"
    r"ο υπευθυνοσ|η υπευθυνη|τηλ\.?\s*[:\d]|tel\.?\s*[:\d]|τηλεφωνο\s*:)")


def new_text(text: str) -> str:
    """The lines the writer added: before any quote header, ``>`` line or signature."""
    kept = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        folded = fold(stripped)
        if stripped.startswith(">") or _QUOTE_HEADER.match(folded):
            break
        if _SIGNATURE.match(folded) and kept:
            break
        kept.append(stripped)
    return "\n".join(kept).strip()


# --- what it says -------------------------------------------------------------------------

def _words(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


#: Verbs (stems, folded Greek and greeklish) a denial of the fix is made of.
_WORKS = _words(
    "λειτουργ", "δουλευ", "δουλεψ", "λυθ", "λυν", "λυσ", "φτιαχ", "διορθ", "ανοιγ", "ανοιξ",
    "συνδε", "τυπων", "εκτυπων", "παιζ", "ανταποκρ", "εμφανιζ", "φαιν", "βλεπ", "αναγνωριζ",
    "ξεκιν", "φορτων", "εγινε", "αλλαξε", "πιαν", "μπαιν", "ακομα", "ακομη", "πια", "πλεον",
    "leitourg", "leitoyrg", "litourg", "douleu", "doulev", "dulev", "douleye", "lyth", "lith",
    "luth", "fti", "diorth", "anoig", "anig", "syndee", "sindee", "tipon", "typon", "egine",
    "akoma", "akomi", "pia", "paiz")
#: "No need for anything else", "no problem any more": denials that confirm.
_BENIGN = re.compile(
    r"(?:δεν|δε|den)\s+(?:\S+\s+){0,2}?(?:χρειαζ|xreiaz|xriaz|chreiaz)\S*"
    r"|(?:δεν|den)\s+(?:υπαρχει|υπαρχουν|εχουμε|εχω|parxei|yparxei|iparxei|iparxi|exoume|"
    r"exo)\s+(?:πια\s+|πλεον\s+|αλλο\s+|κανενα\s+|pia\s+|pleon\s+|allo\s+|kanena\s+)*"
    r"(?:προβλημα|θεμα|provlima|problima|thema)"
    r"|κανενα προβλημα|kanena provlima|no problem|no (?:further|more) (?:issue|problem)s?"
    r"|δεν εχω λογια|den exo logia")
_NOT_SOLVED = re.compile(
    r"\b(?:δεν|δε|μη|den|ουτε|oute)\s+(?:\S+\s+){0,2}?" + _WORKS +
    r"|\b(?:ακομα|ακομη|akoma|akomi)\s+(?:\S+\s+){0,1}?(?:δεν|den|τιποτα|tipota)\b"
    r"|παραμενει|παραμενουν|εξακολουθει|συνεχιζει να|συνεχιζουν να|paramenei|eksakolouthei|"
    r"exakolouthei"
    r"|ξανα(?:χαλασ|εμφανιστ|κολλ|επεσε|πεφτ|παρουσιαστ)|(?:ξανα|παλι|xana|pali)\s+"
    r"(?:το ιδιο|τα ιδια|χαλασ|κολλ|πεφτ|to idio|ta idia)"
    r"|(?:το|το\s+ιδιο|ιδιο)\s+(?:προβλημα|θεμα)\s+(?:παραμενει|υπαρχει|ξανα|παλι)"
    r"|το ιδιο προβλημα|ιδιο προβλημα|to idio provlima|το ιδιο μηνυμα λαθουσ"
    r"|χωρισ αποτελεσμα|xoris apotelesma"
    r"|\bnot (?:yet )?(?:working|work|solved|fixed|resolved)\b|\bno longer works?\b"
    r"|\b(?:doesn'?t|does not|didn'?t|did not|isn'?t|is not|won'?t|can'?t|cannot)\s+"
    r"(?:\S+\s+){0,2}?(?:work|fix|solv|resolv|print|connect|open|start|boot|load|the same)"
    r"|\bstill (?:broken|down|failing|not|have|having|get|getting|see|seeing)\b"
    r"|\bsame (?:problem|issue|error)\b|\bproblem (?:persists|remains|is back)\b"
    r"|\b(?:happen\w*|broke|broken|fail\w*|stopped|crash\w*) again\b")
#: "But", "however": what follows is news, not thanks.
_BUT = re.compile(r"\b(?:αλλα|ομωσ|ωστοσο|alla|omos|omws|but|however)\b")
_QUESTION = re.compile(r"[?;\u037e]")
_THANKS = re.compile(
    r"ευχαριστ|ευχαριστω|e[uyvf]{1,2}(?:x|ch|h)arist|thank|thx|\bmerci\b"
    r"|ολα καλα|ola kala|ολα οκ|ola ok|ολα εντα|ola enta|μια χαρα|mia xara|mia hara"
    r"|λειτουργ|leitourg|leitoyrg|litourg|δουλευ|douleu|doulev|dulev"
    r"|λυθηκε|λυθηκαν|lythike|lithike|luthike|φτιαχτηκε|ftiaxtike|διορθωθηκε"
    r"|τελεια|teleia|telia|αψογα|apsoga|εξαιρετικα|μπραβο|bravo"
    r"|\bοκ\b|\bok\b|\bokay\b|εντα[ξκ]ει|entaxei|entaksei"
    r"|\bworks?\b|\bworking\b|\bsolved\b|\bfixed\b|\bresolved\b|\bperfect\b|\bgreat\b")


def read_reply(text: str, *, has_attachments: bool = False) -> Meaning:
    """What a school's reply to its resolved request means (see the module's docstring)."""
    if has_attachments:
        return Meaning.NEW_FACTS
    said = " ".join(fold(line) for line in new_text(text).split("\n") if line.strip())
    if not said:
        return Meaning.NEW_FACTS
    denial = _BENIGN.sub(" ", said)
    if _NOT_SOLVED.search(denial):
        return Meaning.NOT_SOLVED
    if _QUESTION.search(said) or _BUT.search(said) or len(said.split()) > MAX_THANKS_WORDS:
        return Meaning.NEW_FACTS
    return Meaning.THANKS if _THANKS.search(said) else Meaning.NEW_FACTS
