from helpdesk.mail.ids import find_thread, make_message_id, verify_message_id


def test_our_message_ids_verify_and_name_ticket_and_recipient():
    mid = make_message_id("s3cret", 42, 7, "arogi.sch.gr")
    ref = verify_message_id("s3cret", mid)
    assert (ref.ticket_id, ref.user_id) == (42, 7)


def test_forged_or_foreign_ids_do_not_verify():
    mid = make_message_id("s3cret", 42, 7, "arogi.sch.gr")
    assert verify_message_id("other", mid) is None
    assert verify_message_id("s3cret", mid.replace(".t42.", ".t43.")) is None
    assert verify_message_id("s3cret", "<CAF=abc@mail.gmail.com>") is None
    assert verify_message_id("s3cret", None) is None


def test_find_thread_prefers_the_newest_reference():
    old = make_message_id("k", 1, 0, "d")
    new = make_message_id("k", 2, 5, "d")
    assert find_thread("k", None, f"{old} <x@y> {new}").ticket_id == 2
    assert find_thread("k", "<x@y>", "") is None
