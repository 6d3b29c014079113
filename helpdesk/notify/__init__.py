"""Ticket notifications: which changes are mailed to whom, and in which words.

``rules`` (pure) decides from a ticket's new events; ``recipients`` turns the decision
into addresses; ``render`` writes the mail in the recipient's language; ``services``
hooks all of it into the session so the rows join the change's transaction (the outbox)
and are handed to the "mail" queue after commit.
"""
