"""/api/v1/incidents: the known outages and their public timelines (read only)."""
from __future__ import annotations

from flask import request

from helpdesk.api.core import endpoint
from helpdesk.api.registry import Param
from helpdesk.api.schemas import IncidentList, IncidentOut, IncidentUpdateOut
from helpdesk.core.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.incidents import queries
from helpdesk.incidents.models import Incident


def _out(incident: Incident, counts: dict, updates=()) -> IncidentOut:
    linked, schools = counts.get(incident.id, (0, 0))
    return IncidentOut(id=incident.id, title=incident.title, status=incident.status,
                       scope=incident.scope_kind, created_at=incident.created_at,
                       updated_at=incident.updated_at, resolved_at=incident.resolved_at,
                       linked_tickets=linked, schools_affected=schools,
                       updates=[IncidentUpdateOut(id=u.id, status=u.status, text=u.body,
                                                  at=u.created_at) for u in updates])


@endpoint("GET", "/incidents", "Known outages, open first", response=IncidentList,
          tag="incidents",
          params=[Param("status", {"type": "string", "enum": ["open", "investigating",
                                                              "identified", "monitoring",
                                                              "resolved"]}, "Filter by status."),
                  Param("page", {"type": "integer", "minimum": 1, "maximum": 1000})])
def list_incidents():
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 1000:
        raise ValidationFailed("page", "Must be a whole number from %(low)s to %(high)s.",
                               low=1, high=1000)
    f = queries.Filters.from_args({"status": request.args.get("status", ""), "page": page})
    rows, more = queries.listing(f)
    counts = queries.counts(i.id for i in rows)
    return IncidentList(items=[_out(i, counts) for i in rows],
                        next_page=f.page + 1 if more else None)


@endpoint("GET", "/incidents/{incident_id}", "One known outage with its timeline",
          response=IncidentOut, tag="incidents",
          params=[Param("incident_id", {"type": "integer"}, "The outage's number", where="path")])
def get_incident(incident_id: int):
    incident = db.session.get(Incident, incident_id) if str(incident_id).isdigit() else None
    if incident is None:
        raise NotFound()
    return _out(incident, queries.counts([incident.id]), queries.timeline(incident.id))
