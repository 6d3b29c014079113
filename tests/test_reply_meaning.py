"""What a school means by its answer to a resolved request (helpdesk.mail.meaning, pure)."""
import pytest

from helpdesk.mail.meaning import Meaning, new_text, read_reply

THANKS = [
    "Ευχαριστούμε πολύ, λειτουργεί!",
    "ευχαριστουμε πολυ λειτουργει",
    "ΕΥΧΑΡΙΣΤΟΥΜΕ ΠΟΛΥ!!!",
    "Καλημέρα σας,\n\nόλα καλά, ο εκτυπωτής τυπώνει κανονικά.\n\nΕυχαριστούμε!",
    "Λειτουργεί κανονικά πλέον. Σας ευχαριστώ για τη γρήγορη ανταπόκριση.",
    "Λύθηκε, ευχαριστούμε!",
    "Μια χαρά δουλεύει τώρα!",
    "Τέλεια, ευχαριστώ!",
    "Εντάξει, ευχαριστούμε",
    "ok ευχαριστώ",
    "efxaristoume, ola kala",
    "Eyxaristoume poly, leitourgei!",
    "euxaristw poli",
    "Ευχαριστούμε, δεν χρειαζόμαστε κάτι άλλο.",
    "Δεν υπάρχει πλέον κανένα πρόβλημα, ευχαριστούμε!",
    "Ευχαριστούμε και πάλι!",
    "Thank you, it works now!",
    "Thanks, everything is fine. Thanks again!",
    "Problem solved, many thanks.",
    "Ευχαριστούμε πολύ!\n\n--\nΓιώργος Παπαδόπουλος\nΔιευθυντής\n1ο Δημοτικό Σχολείο Καλαμαριάς\nΤηλ: 2310 123456",
    "Ευχαριστούμε, λειτουργεί.\n\nΜε εκτίμηση,\nΗ Διευθύντρια\nΔεν είναι δυνατή η απάντηση σε αυτό το μήνυμα",
    "Λειτουργεί!\n\nΣτάλθηκε από το iPhone μου",
    # the quote of our own mail says "problem" and "does not work": only the new text counts
    "Ευχαριστούμε πολύ!\n\nΣτις Τρί, 1 Δεκ 2026 στις 10:00, Αρωγή <arogi@sch.gr> έγραψε:\n"
    "> Το αίτημά σας ΑΡ-2026-000123 επιλύθηκε:\n> Ο εκτυπωτής δεν λειτουργούσε γιατί;\n",
    "Όλα καλά!\n\n-----Original Message-----\nFrom: Αρωγή\nSent: Tuesday\n"
    "Δεν λειτουργεί το δίκτυο; Αν το πρόβλημα παραμένει, ανοίξτε ξανά το αίτημα.",
    "thanks\n> If the problem persists, you can reopen the request within 7 days?",
]

NOT_SOLVED = [
    "Δεν λειτουργεί ακόμα, ευχαριστώ",
    "δεν λειτουργει ακομα ευχαριστω",
    "Δυστυχώς δεν λύθηκε.",
    "Το πρόβλημα παραμένει.\n\nΕυχαριστώ,\nΜαρία",
    "Ακόμα δεν τυπώνει.",
    "Ο υπολογιστής δεν ανοίγει πάλι.",
    "Ξαναχάλασε σήμερα το πρωί, ευχαριστούμε",
    "Το ίδιο πρόβλημα, ευχαριστούμε πάντως.",
    "Δεν έχει λυθεί, ευχαριστούμε.",
    "Δεν μπορούμε ακόμα να συνδεθούμε.",
    "den leitourgei akoma",
    "Efxaristoume alla den doulevei",
    "It still doesn't work, thanks.",
    "Thanks, but it is not working.",
    "Not fixed yet.",
    "Same problem as before.",
    "Συνεχίζει να κολλάει.",
]

NEW_FACTS = [
    "Ευχαριστούμε! Μπορείτε να δείτε και τον προβολέα της αίθουσας 3;",
    "Ευχαριστούμε, αλλά τώρα ο δεύτερος εκτυπωτής βγάζει σφάλμα 0x80.",
    "Ευχαριστούμε. Θα ήθελα να ρωτήσω κάτι άλλο: πώς αλλάζουμε τον κωδικό του wifi?",
    "Σας ευχαριστούμε. Επίσης στο εργαστήριο πληροφορικής οι υπολογιστές 4, 5 και 6 "
    "ανοίγουν πολύ αργά μετά την ενημέρωση των Windows που έγινε την περασμένη εβδομάδα "
    "και οι μαθητές περιμένουν πάνω από δέκα λεπτά μέχρι να συνδεθούν στο δίκτυο του σχολείου "
    "για το μάθημα.",
    "Ο τεχνικός ήρθε σήμερα.",
    "",
    "   \n\n",
    "Thanks. Could you also check the projector?",
    "Το εργαστήριο θα είναι κλειστό την Παρασκευή.",
]


@pytest.mark.parametrize("text", THANKS)
def test_a_thank_you_confirms(text):
    assert read_reply(text) == Meaning.THANKS


@pytest.mark.parametrize("text", NOT_SOLVED)
def test_a_denial_says_not_solved(text):
    assert read_reply(text) == Meaning.NOT_SOLVED


@pytest.mark.parametrize("text", NEW_FACTS)
def test_anything_else_is_new_facts(text):
    assert read_reply(text) == Meaning.NEW_FACTS


def test_a_thank_you_with_a_file_is_new_facts():
    assert read_reply("Ευχαριστούμε πολύ!", has_attachments=True) == Meaning.NEW_FACTS


def test_new_text_drops_quotes_and_the_signature():
    text = ("Όλα καλά.\nΕυχαριστούμε\n\n-- \nΚώστας\nΤηλ.: 2310000000\n\n"
            "On Tue, 1 Dec 2026, Arogi wrote:\n> δεν λειτουργεί")
    assert new_text(text) == "Όλα καλά.\nΕυχαριστούμε"
    assert new_text("> μόνο παράθεση") == ""
    # a sign-off on the first line is not a signature (nothing came before it)
    assert new_text("Με εκτίμηση") == "Με εκτίμηση"


# --- the routing of a school's answer (helpdesk.mail.threading.decide) -----------------------

def _decide(status, meaning, *, days=1):
    from datetime import UTC, datetime, timedelta

    from helpdesk.mail.ids import ThreadRef
    from helpdesk.mail.threading import Sender, TicketFacts, decide

    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    facts = TicketFacts(id=7, school_id=3, status=status, resolved_at=now - timedelta(days=days))
    return decide(Sender("s@sch.gr", school_id=3), signed=ThreadRef(7, None),
                  signed_ticket=facts, subject_ticket=None, now=now,
                  reopen_window=timedelta(days=7), meaning=meaning)


@pytest.mark.parametrize("status,meaning,days,action", [
    ("resolved", Meaning.THANKS, 1, "confirm"),
    ("resolved", Meaning.THANKS, 30, "confirm"),  # after the reopen window: still thanks
    ("resolved", Meaning.NOT_SOLVED, 1, "reopen"),
    ("resolved", Meaning.NEW_FACTS, 1, "reopen"),
    ("resolved", None, 1, "reopen"),
    ("resolved", Meaning.NOT_SOLVED, 30, "follow_up"),
    ("closed", Meaning.THANKS, 1, "thanks"),
    ("closed", Meaning.NEW_FACTS, 1, "follow_up"),
    ("open", Meaning.THANKS, 1, "reply"),
    ("waiting", Meaning.NOT_SOLVED, 1, "reply"),
])
def test_a_thank_you_confirms_and_anything_else_routes_as_before(status, meaning, days, action):
    assert _decide(status, meaning, days=days).action == action
