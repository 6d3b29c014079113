"""Canned replies (έτοιμες απαντήσεις): a unit's own and the shared national ones."""
