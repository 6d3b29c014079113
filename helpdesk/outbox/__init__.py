"""The outbox: notifications written in the same transaction as the change they report.

Delivery (e-mail through RQ after commit, a periodic re-send sweep) is added by the
e-mail issue; until then rows stay ``pending``.
"""
