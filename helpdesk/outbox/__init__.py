"""The outbox: notifications written in the same transaction as the change they report.

``services`` writes the rows and hands each to the "mail" queue after commit
(helpdesk.core.aftercommit); ``delivery`` sends one; ``family`` is the life every
outgoing row shares with webhook deliveries (claim, lease, back-off, give-up); the
periodic sweep (workers.outbox_jobs) sends what Redis missed.
"""
