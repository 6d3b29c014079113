"""SLA: business calendars, policies, the pure clock and the escalation sweep.

``calendar`` and ``clock`` are pure (no Flask, no database); ``models``, ``services``
and ``views`` are the database and web side.
"""
