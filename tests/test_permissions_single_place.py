"""No module outside helpdesk/permissions.py decides access (issue 13).

An AST scan of helpdesk/ and a regex scan of templates/ fail when code reads an actor's
role (``.is_school``, ``.is_admin``, ``.is_staff``, ``getattr(x, "is_school")``, a
comparison with ``Role.X`` or with ``.role`` / ``role``) anywhere but permissions.py, the
models that define the roles, and the allow-list below.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "helpdesk"
TEMPLATES = ROOT / "templates"

ROLE_FLAGS = {"is_school", "is_admin", "is_staff"}

#: Where roles are defined or the one check lives.
HOME = {"helpdesk/permissions.py", "helpdesk/accounts/models.py"}

#: path (a file, or a folder ending in "/") -> why reading a role there decides no access.
ALLOWED = {
    "helpdesk/mail/threading.py": "Sender.is_staff is a field of the pure mail router's value "
                                  "object, filled by mail.queries from permissions.is_support_staff",
    "helpdesk/accounts/": "create_user and the people writers check the shape of the account "
                          "they write for its role (a school account needs a school, staff a "
                          "unit); who may write it is asked of permissions.py",
    "helpdesk/demo/": "the demo data generator picks the school accounts to play their part",
}


def _allowed(rel: str) -> bool:
    return rel in HOME or any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in ALLOWED)


def _is_role_ref(node: ast.AST) -> bool:
    """``Role.X``, ``x.role`` or a bare ``role``."""
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "Role":
            return True
        return node.attr == "role"
    return isinstance(node, ast.Name) and node.id == "role"


def role_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for every role read in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ROLE_FLAGS:
            found.append((node.lineno, f".{node.attr}"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and node.args[1].value in ROLE_FLAGS):
            found.append((node.lineno, f'{node.func.id}(…, "{node.args[1].value}")'))
        elif (isinstance(node, ast.Compare)
              and any(_is_role_ref(n) for n in [node.left, *node.comparators])):
            found.append((node.lineno, "a role comparison"))
    return found


TEMPLATE_ROLE = re.compile(r"\.(is_school|is_admin|is_staff)\b|\brole\s*(==|!=|\bin\b)|Role\.")


def test_the_scan_sees_every_kind_of_role_read():
    source = ("a.is_school\nb.is_admin\nc.is_staff\ngetattr(d, 'is_school', False)\n"
              "e.role == 'admin'\nrole in (Role.TECHNICIAN,)\nx = Role.ADMIN != y\n")
    assert [line for line, _what in role_reads(source)] == [1, 2, 3, 4, 5, 6, 7]
    assert role_reads("create_user(email, name, Role.SCHOOL)\nlabel = ROLES[user.role]\n") == []
    assert TEMPLATE_ROLE.search("{% if current_user.is_admin %}")
    assert not TEMPLATE_ROLE.search("{{ ROLE_LABELS[current_user.role] }}")


def test_no_module_outside_permissions_reads_a_role():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if _allowed(rel):
            continue
        offences += [f"{rel}:{line}: {what}" for line, what in role_reads(path.read_text("utf-8"))]
    assert offences == [], ("Access is decided in helpdesk/permissions.py only: ask a named "
                            "function there instead of reading the role.\n" + "\n".join(offences))


def test_no_template_reads_a_role():
    offences = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if TEMPLATE_ROLE.search(line):
                offences.append(f"{path.relative_to(ROOT).as_posix()}:{number}: {line.strip()}")
    assert offences == [], ("Templates ask the permission functions (permissions.register), "
                            "never the role.\n" + "\n".join(offences))


def test_the_allow_list_stays_tiny_and_every_entry_exists_and_says_why():
    assert len(ALLOWED) <= 3
    for path, reason in ALLOWED.items():
        assert (ROOT / path).exists(), path
        assert len(reason) > 20, path
