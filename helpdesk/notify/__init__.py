"""Notifications: which events are mailed to whom, and in which words.

``handlers`` are the bus's mail handlers (helpdesk.handlers.HANDLERS); for ticket changes
``rules`` (pure) decides from a ticket's new events, ``recipients`` turns the decision
into addresses and ``services`` writes the rows; ``render`` writes every mail from its
kind's template in the recipient's language. The rows join the change's transaction
(the outbox) and are handed to the "mail" queue after commit.
"""
