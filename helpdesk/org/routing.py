"""Tier routing (pure): a school's escalation chain and where a request starts."""
from dataclasses import dataclass

TOP_LEVEL = 3


class NoHigherLevel(ValueError):
    pass


class NoLowerLevel(ValueError):
    pass


@dataclass(frozen=True)
class Chain:
    """school → its directorate's level-1 unit → its partner (2) → Διόφαντος (3)."""

    l1: int | None
    l2: int | None
    l3: int | None

    def unit_at(self, level: int) -> int | None:
        return {1: self.l1, 2: self.l2, 3: self.l3}.get(level)


def start(chain: Chain, first_level: int) -> tuple[int, int]:
    """(level, unit) where a request of a category starting at ``first_level`` lands.

    A missing unit at that level sends the request to the next level that has one.
    """
    for level in range(max(1, first_level), TOP_LEVEL + 1):
        unit = chain.unit_at(level)
        if unit is not None:
            return level, unit
    raise NoHigherLevel("the school's chain has no support unit")


def escalation_target(chain: Chain, level: int) -> tuple[int, int]:
    """(level, unit) one step up from ``level``, skipping levels with no unit."""
    for up in range(level + 1, TOP_LEVEL + 1):
        unit = chain.unit_at(up)
        if unit is not None:
            return up, unit
    raise NoHigherLevel(f"no level above {level}")


def return_target(chain: Chain, level: int) -> tuple[int, int]:
    """(level, unit) one step down from ``level``, skipping levels with no unit."""
    for down in range(level - 1, 0, -1):
        unit = chain.unit_at(down)
        if unit is not None:
            return down, unit
    raise NoLowerLevel(f"no level below {level}")
