"""``helpdesk user …``: manage accounts from the shell."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.accounts import services
from helpdesk.accounts.models import Role, User
from helpdesk.core.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit


@click.group("user", help="Manage accounts.")
def cli():
    pass


@cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--school", "school_code", help="7-digit code, for school accounts.")
@click.option("--unit", "unit_codes", multiple=True, help="Support unit code (repeatable).")
@click.option("--manages", "managed_codes", multiple=True, help="Unit code this user manages.")
@click.option("--psd-uid", help="The ΠΣΔ (sso.sch.gr) user name this account signs in with.")
@with_appcontext
def create(email, name, role, password, school_code, unit_codes, managed_codes, psd_uid):
    """Create an account."""
    school = db.session.scalar(select(School).where(School.code == school_code)) if school_code else None
    if school_code and school is None:
        raise click.UsageError(f"no school with code {school_code}")
    units = _units(unit_codes)
    managed = _units(managed_codes)
    psd_uid = (psd_uid or "").strip().lower() or None
    if psd_uid and db.session.scalar(select(User.id).where(User.psd_uid == psd_uid)):
        raise click.UsageError(f"ΠΣΔ user name {psd_uid} is already bound to an account")
    try:
        user = services.create_user(email, name, role, password, school=school, units=units,
                                    managed_units=managed)
    except ValidationFailed as exc:
        raise click.UsageError(str(exc)) from None
    if psd_uid:
        user.psd_uid = psd_uid
    db.session.commit()
    click.echo(f"created {user.email} ({user.role})")


def _units(codes):
    units = list(db.session.scalars(select(SupportUnit).where(SupportUnit.code.in_(codes)))) if codes else []
    missing = set(codes) - {u.code for u in units}
    if missing:
        raise click.UsageError(f"unknown unit(s): {', '.join(sorted(missing))}")
    return units
