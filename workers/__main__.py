"""``python -m workers …`` is ``helpdesk …`` (used by ``helpdesk serve`` for its children)."""
from helpdesk.cli import main

main(prog_name="helpdesk")
