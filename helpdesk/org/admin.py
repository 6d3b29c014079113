"""The administrator's changes to the support organisation (issue 14).

Administration sits with the entry points in the import stack (scripts/import_graph.py):
it asks helpdesk.permissions, which reads the ticket models above org.
"""
from __future__ import annotations

from helpdesk.audit.services import record
from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import Directorate, PartnerArea, SupportUnit
from helpdesk.org.services import source_note
from helpdesk.permissions import can_change_partner

# --- the administrator's changes ----------------------------------------------------------------

def change_partner(actor, directorate_id: int, unit_id: int, *, now) -> PartnerArea:
    """Make the level-2 unit ``unit_id`` the partner serving a directorate (who its
    requests escalate to from now on); audited. Requests already at the former partner
    stay with it until they move on."""
    if not can_change_partner(actor):
        raise PermissionDenied()
    directorate = db.session.get(Directorate, directorate_id)
    unit = db.session.get(SupportUnit, unit_id)
    if directorate is None:
        raise NotFound()
    if unit is None or unit.level != 2:
        raise ValidationFailed("unit", "Pick a level-2 unit (a ΠΣΔ partner).")
    area = db.session.get(PartnerArea, directorate_id)
    before = {"unit_id": area.unit_id} if area is not None else None
    if area is None:
        area = PartnerArea(directorate_id=directorate_id, unit_id=unit_id)
        db.session.add(area)
    elif area.unit_id == unit_id:
        return area
    area.unit_id = unit_id
    area.as_of = now.date().isoformat()
    area.source = source_note(f"changed in Αρωγή by user {getattr(actor, 'id', None)}")
    db.session.flush()
    record(actor, "org.partner_area.change", "directorate", directorate_id, before=before,
           after={"unit_id": unit_id}, now=now)
    return area
