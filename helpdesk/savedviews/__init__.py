"""Saved queue filters per person ("my views", Οι προβολές μου)."""
