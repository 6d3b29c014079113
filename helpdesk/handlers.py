"""What each domain event causes: the one table of the message bus (helpdesk.bus).

Read it as "when this happens, do these". Every handler takes the list of events of its
kinds (helpdesk.bus explains when it runs) and only writes rows in the same
transaction: outbox rows (mail: helpdesk.outbox; webhooks: helpdesk.api.webhooks), handed
to RQ after the commit.
"""
from __future__ import annotations

from collections.abc import Callable

from helpdesk import events as e
from helpdesk.api import webhooks
from helpdesk.notify import handlers as mail

#: Ticket changes the webhooks report (helpdesk.api.webhook_policy picks the rows).
_TICKET_WEBHOOKS = [mail.ticket_mail, webhooks.ticket_deliveries]

HANDLERS: dict[type[e.Event], list[Callable]] = {
    e.TicketCreated: _TICKET_WEBHOOKS,
    e.TicketReplied: _TICKET_WEBHOOKS,
    e.TicketEscalated: _TICKET_WEBHOOKS,
    e.TicketResolved: _TICKET_WEBHOOKS,
    e.TicketReturned: [mail.ticket_mail],
    e.TicketReopened: [mail.ticket_mail],
    e.TicketClosed: [mail.ticket_mail],
    e.TicketAssigned: [mail.ticket_mail],
    e.TicketClaimed: [mail.ticket_mail],
    e.TicketAwaitingSchool: [mail.ticket_mail],
    e.TicketSchoolReplied: [mail.ticket_mail],
    e.TicketNoted: [mail.ticket_mail],
    e.TicketChanged: [mail.ticket_mail],
    e.EquipmentChanged: [webhooks.equipment_deliveries],
    e.SlaWarning: [mail.sla_mail, webhooks.sla_deliveries],
    e.SlaBreached: [mail.sla_mail, webhooks.sla_deliveries],
    e.CensusReminderDue: [mail.census_reminder_mail],
    e.UnknownSenderQuarantined: [mail.unknown_sender_answer],
    e.PasswordResetRequested: [mail.password_reset_mail],
    e.IncidentCreated: [webhooks.incident_deliveries],
    e.IncidentUpdated: [webhooks.incident_deliveries],
    e.IncidentResolved: [webhooks.incident_deliveries],
    e.IncidentUpdateReachedSchools: [mail.incident_mail],
}
