"""Ticket states and the one enforced transition table (pure: no Flask, no DB)."""
from enum import IntEnum, StrEnum


class Status(StrEnum):
    NEW = "new"            #: arrived at a unit, nobody has it yet
    OPEN = "open"          #: being worked
    WAITING = "waiting"    #: waiting on the school; the clock stops
    RESOLVED = "resolved"  #: answered; the school may reopen within the window
    CLOSED = "closed"      #: final


class Action(StrEnum):
    CLAIM = "claim"
    ASSIGN = "assign"
    AWAIT_SCHOOL = "await_school"
    SCHOOL_REPLY = "school_reply"
    ESCALATE = "escalate"
    RETURN = "return"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    CONFIRM = "confirm"  #: the school says the resolution worked: closes the request


class Priority(IntEnum):
    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4


class Channel(StrEnum):
    """How a request reached us (Ticket.channel)."""

    WEB = "web"        #: the school filed it on the web
    EMAIL = "email"    #: the school mailed it
    API = "api"        #: a program filed it
    PHONE = "phone"    #: support staff filed it for the school after a phone call
    VISIT = "visit"    #: … during or after a visit
    OTHER = "other"    #: … for another reason (a letter, a meeting)


#: The channels of a request support staff file on a school's behalf.
ON_BEHALF_CHANNELS = (Channel.PHONE, Channel.VISIT, Channel.OTHER)


OPEN_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.WAITING})
#: The open statuses as SQL compares them, in the order of the partial indexes' predicate
#: (status IN ('new', 'open', 'waiting')). PostgreSQL recognises the same list in a query
#: as that predicate; the same values in another order (a frozenset's) it counts as one
#: more condition, estimates the unit's open tickets 40 times too few and ANDs in a scan
#: of the country's open tickets (the staff counts: 16 ms instead of 5 at 1M tickets).
OPEN_STATUS_VALUES = tuple(sorted(s.value for s in OPEN_STATUSES))
WORKING = (Status.NEW, Status.OPEN, Status.WAITING)

#: (from, action) -> to. Anything not listed is illegal.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    **{(s, Action.CLAIM): (Status.WAITING if s == Status.WAITING else Status.OPEN) for s in WORKING},
    **{(s, Action.ASSIGN): (Status.WAITING if s == Status.WAITING else Status.OPEN) for s in WORKING},
    (Status.NEW, Action.AWAIT_SCHOOL): Status.WAITING,
    (Status.OPEN, Action.AWAIT_SCHOOL): Status.WAITING,
    (Status.WAITING, Action.SCHOOL_REPLY): Status.OPEN,
    **{(s, Action.ESCALATE): Status.NEW for s in WORKING},
    **{(s, Action.RETURN): Status.NEW for s in WORKING},
    **{(s, Action.RESOLVE): Status.RESOLVED for s in WORKING},
    (Status.RESOLVED, Action.REOPEN): Status.OPEN,
    (Status.RESOLVED, Action.CLOSE): Status.CLOSED,
    (Status.RESOLVED, Action.CONFIRM): Status.CLOSED,
}


#: A school's rating of a resolution (optional, with its confirmation).
RATINGS = (1, 2, 3, 4, 5)


class IllegalTransition(ValueError):
    def __init__(self, status: Status, action: Action):
        super().__init__(f"cannot {action} a ticket that is {status}")
        self.status = status
        self.action = action


def next_status(status: str, action: str) -> Status:
    """The status after ``action``; raises IllegalTransition when it is not allowed."""
    key = (Status(status), Action(action))
    if key not in TRANSITIONS:
        raise IllegalTransition(*key)
    return TRANSITIONS[key]


def allowed_actions(status: str) -> frozenset[Action]:
    return frozenset(a for (s, a) in TRANSITIONS if s == Status(status))
