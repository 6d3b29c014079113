"""Greek first names and surnames for demo staff, with Latin user names (pure)."""
from __future__ import annotations

import random
import unicodedata

#: (first name, gender) — common Greek first names.
FIRST_NAMES = (
    ("Γιώργος", "m"), ("Δημήτρης", "m"), ("Νίκος", "m"), ("Κώστας", "m"), ("Γιάννης", "m"),
    ("Παναγιώτης", "m"), ("Βασίλης", "m"), ("Χρήστος", "m"), ("Αθανάσιος", "m"),
    ("Μιχάλης", "m"), ("Ευάγγελος", "m"), ("Σπύρος", "m"), ("Αντώνης", "m"), ("Θοδωρής", "m"),
    ("Ηλίας", "m"), ("Στέλιος", "m"), ("Αλέξανδρος", "m"), ("Πέτρος", "m"),
    ("Μαρία", "f"), ("Ελένη", "f"), ("Αικατερίνη", "f"), ("Βασιλική", "f"), ("Σοφία", "f"),
    ("Αγγελική", "f"), ("Γεωργία", "f"), ("Δήμητρα", "f"), ("Κωνσταντίνα", "f"),
    ("Ευαγγελία", "f"), ("Χριστίνα", "f"), ("Παρασκευή", "f"), ("Ιωάννα", "f"),
    ("Αναστασία", "f"), ("Ειρήνη", "f"), ("Δέσποινα", "f"), ("Φωτεινή", "f"), ("Θεοδώρα", "f"),
)

#: (masculine, feminine) forms of common Greek surnames.
SURNAMES = (
    ("Παπαδόπουλος", "Παπαδοπούλου"), ("Γεωργίου", "Γεωργίου"), ("Οικονόμου", "Οικονόμου"),
    ("Παπαγεωργίου", "Παπαγεωργίου"), ("Βασιλείου", "Βασιλείου"), ("Νικολάου", "Νικολάου"),
    ("Καραγιάννης", "Καραγιάννη"), ("Ιωάννου", "Ιωάννου"), ("Δημητρίου", "Δημητρίου"),
    ("Παπαδάκης", "Παπαδάκη"), ("Αθανασίου", "Αθανασίου"), ("Μακρής", "Μακρή"),
    ("Κωνσταντίνου", "Κωνσταντίνου"), ("Αντωνίου", "Αντωνίου"), ("Χριστοδούλου", "Χριστοδούλου"),
    ("Πετρίδης", "Πετρίδου"), ("Αλεξίου", "Αλεξίου"), ("Ζαχαρίου", "Ζαχαρίου"),
    ("Μαυρίδης", "Μαυρίδου"), ("Κυριακίδης", "Κυριακίδου"), ("Σταματόπουλος", "Σταματοπούλου"),
    ("Λαμπρόπουλος", "Λαμπροπούλου"), ("Τσολάκης", "Τσολάκη"), ("Ραφαηλίδης", "Ραφαηλίδου"),
    ("Μπακάλης", "Μπακάλη"), ("Ξενάκης", "Ξενάκη"), ("Θεοδωρίδης", "Θεοδωρίδου"),
    ("Φραγκιαδάκης", "Φραγκιαδάκη"), ("Σαββίδης", "Σαββίδου"), ("Χατζηδάκης", "Χατζηδάκη"),
    ("Ντόκος", "Ντόκου"), ("Γκίκας", "Γκίκα"), ("Ευθυμίου", "Ευθυμίου"), ("Τζαβάρας", "Τζαβάρα"),
)

_DIGRAPHS = {
    "ου": "ou", "αι": "ai", "ει": "ei", "οι": "oi", "αυ": "av", "ευ": "ev",
    "μπ": "mp", "ντ": "nt", "γκ": "gk", "γγ": "ng", "τζ": "tz", "τσ": "ts",
}
_LETTERS = dict(zip(
    "αβγδεζηθικλμνξοπρστυφχψωςϊϋ",
    ["a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o",
     "p", "r", "s", "t", "y", "f", "ch", "ps", "o", "s", "i", "y"],
    strict=True,
))


def latin(text: str) -> str:
    """Transliterate Greek to lower-case Latin letters (ELOT 743 style, simplified)."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text.lower())
                   if not unicodedata.combining(c))
    out, i = [], 0
    while i < len(bare):
        pair = bare[i:i + 2]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        out.append(_LETTERS.get(bare[i], bare[i] if bare[i].isascii() else ""))
        i += 1
    return "".join(ch for ch in "".join(out) if ch.isalnum())


def random_person(rng: random.Random) -> tuple[str, str]:
    """Draw a (full name, user name) pair, e.g. ("Μαρία Παπαδοπούλου", "mpapadopoulou")."""
    first, gender = rng.choice(FIRST_NAMES)
    masculine, feminine = rng.choice(SURNAMES)
    surname = masculine if gender == "m" else feminine
    return f"{first} {surname}", f"{latin(first)[0]}{latin(surname)}"
