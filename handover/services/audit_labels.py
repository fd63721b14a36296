"""Audit events in plain words: one label per action the code writes, for every page that lists
events (the audit log's filter and table, the per-child access report).

The log itself keeps the action's key (``handover.draft_saved``): it is what the export, the API
and the chain carry, and it never changes meaning. People read the label ("Draft saved"). The
one mapping lives here so that a page never prints a key, and ``tests/test_audit_labels.py``
scans the code for every action it writes and fails on one without a label. An action from the
past that no code writes any more still reads as words (`label`), never as a crash.
"""

from typing import Any

from handover.i18n import lazy_gettext as _l

LABELS: dict[str, Any] = {
    # handovers
    "handover.draft_created": _l("Draft created"),
    "handover.draft_saved": _l("Draft saved"),
    "handover.draft_viewed": _l("Draft opened"),
    "handover.draft_routed": _l("Receiver chosen for the draft"),
    "handover.draft_discarded": _l("Draft deleted"),
    "handover.typing_kept": _l("Typing kept after the session expired"),
    "handover.typing_restored": _l("Kept typing given back after signing in"),
    "handover.late_notified": _l("Unit leads told that a draft is late"),
    "handover.prefilled": _l("Draft filled in from an earlier handover"),
    "handover.prefill_confirmed": _l("Filled-in answers confirmed"),
    "handover.attachment_added": _l("Attachment added"),
    "handover.attachment_removed": _l("Attachment removed"),
    "handover.attachment_downloaded": _l("Attachment downloaded"),
    "handover.sent": _l("Handover sent"),
    "handover.update_sent": _l("Placement update sent"),
    "handover.correction_started": _l("Correction started"),
    "handover.copied_to_correction": _l("Content copied into a correction"),
    "handover.copied_from": _l("Answers taken over from it into another draft"),
    "handover.withdrawn": _l("Handover withdrawn"),
    "handover.listed": _l("Shown in a list"),
    "handover.searched": _l("Handovers searched by identity code"),
    "handover.earlier_looked_up": _l("Earlier handovers looked up"),
    "handover.earlier_shown": _l("Shown in the list of the child's earlier handovers"),
    "handover.opened": _l("Opened by the receiving unit"),
    "handover.copy_opened": _l("Opened by a copy unit"),
    "handover.viewed": _l("Handover read"),
    "handover.printed": _l("Handover printed"),
    "handover.compared": _l("Compared with its correction, to show which sections changed"),
    "handover.viewed_without_content": _l("Handover's details opened, without its content "
                                          "(withdrawn or erased)"),
    "handover.printed_without_content": _l("Print page opened, without the handover's "
                                           "content (withdrawn or erased)"),
    "handover.acknowledged": _l("Acknowledged as received"),
    "handover.replied": _l("Reply sent"),
    "handover.returned": _l("Returned to the sender"),
    "handover.rerouted": _l("Sent on to another unit"),
    "handover.closed": _l("Handover closed"),
    "handover.overdue_notified": _l("Reminder of a late acknowledgement sent"),
    "handover.erased": _l("Content erased under the retention rule"),
    "handover.access_denied": _l("Access refused"),
    "handover.integrity_failed": _l("Integrity check failed"),
    # signing in and one's own account
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Sign-in failed"),
    "auth.codes_locked": _l("Two-step login locked after too many wrong codes"),
    "admin.code_step_opened": _l("Locked two-step login opened again"),
    "auth.logout": _l("Signed out"),
    "auth.sso_refused": _l("Organisation sign-in refused"),
    "auth.totp_enrolled": _l("Two-step login set up"),
    "account.password_changed": _l("Own password changed"),
    "account.sso_provisioned": _l("Account created at organisation sign-in"),
    # administration
    "admin.unit_created": _l("Unit created"),
    "admin.unit_updated": _l("Unit changed"),
    "admin.unit_deactivated": _l("Unit deactivated"),
    "admin.unit_reactivated": _l("Unit reactivated"),
    "admin.user_created": _l("User created"),
    "admin.user_deactivated": _l("User deactivated"),
    "admin.user_reactivated": _l("User reactivated"),
    "admin.user_roles_changed": _l("User's system roles changed"),
    "admin.password_reset": _l("Password reset by an administrator"),
    "admin.password_login_on": _l("Password sign-in allowed"),
    "admin.password_login_off": _l("Password sign-in turned off"),
    "admin.sso_linked": _l("Organisation account linked"),
    "admin.sso_unlinked": _l("Organisation account unlinked"),
    "admin.membership_added": _l("Member added to a unit by an administrator"),
    "admin.membership_removed": _l("Member removed from a unit by an administrator"),
    "unit_lead.membership_added": _l("Member added to a unit by the unit lead"),
    "unit_lead.membership_removed": _l("Member removed from a unit by the unit lead"),
    "admin.membership_confirmed": _l("Membership confirmed by another administrator"),
    "admin.membership_refused": _l("Membership refused by another administrator"),
    "unit_lead.membership_confirmed": _l("Membership confirmed by the unit lead"),
    "unit_lead.membership_refused": _l("Membership refused by the unit lead"),
    "admin.admin_role_confirmed": _l("Administrator role confirmed by another administrator"),
    "admin.admin_role_refused": _l("Administrator role refused by another administrator"),
    "admin.webhook_created": _l("Webhook address added"),
    "admin.webhook_removed": _l("Webhook address removed"),
    "integration_client.created": _l("Integration client created"),
    "integration_client.revoked": _l("Integration client revoked"),
    "integration_client.confirmed": _l("Integration client confirmed"),
    "integration_client.refused": _l("Integration client refused"),
    "integration_client.code_refused": _l("Code refused when creating an integration client"),
    "api.token_refused": _l("Integration client's token refused"),
    # a notice of either channel; a row whose detail names its channel reads `DELIVERIES`
    "delivery.delivered": _l("Notice delivered (e-mail or webhook)"),
    "delivery.failed": _l("Notice could not be delivered (e-mail or webhook)"),
    "delivery.retried": _l("Delivery tried again"),
    "plugins.enabled": _l("Plugin switched on"),
    "plugins.disabled": _l("Plugin switched off"),
    "plugins.failed": _l("Plugin switched off after a failure"),
    "forms.uploaded": _l("Form package uploaded"),
    "forms.upload_refused": _l("Form package refused"),
    "forms.approved": _l("Uploaded form approved"),
    "forms.enabled": _l("Uploaded form switched on"),
    "forms.disabled": _l("Uploaded form switched off"),
    # keys and the log itself
    "keys.rotation_started": _l("Key rotation started"),
    "keys.rotated": _l("Keys rotated"),
    "keys.retired": _l("Old key retired"),
    "keys.checked": _l("Keys checked"),
    "audit.child_report": _l("Report for one child viewed"),
    "audit.exported": _l("Audit log exported"),
}

#: A delivery's event by the channel its detail names (``services.deliveries``): an e-mail
#: to the members of a unit, which says only that something waits and where to log in
#: (``services.notifications``), or a webhook to an integration's endpoint, which carries the
#: event, the handover's number and times, never content (``services.webhooks``).
DELIVERIES: dict[tuple[str, str], Any] = {
    ("delivery.delivered", "email"): _l("E-mail notice sent to the unit (it names no child)"),
    ("delivery.failed", "email"): _l("E-mail notice to the unit could not be sent"),
    ("delivery.delivered", "webhook"): _l(
        "Notice delivered to an integration's webhook (no content)"),
    ("delivery.failed", "webhook"): _l("Notice to an integration's webhook failed"),
}

#: The client address of an event written outside any request (`store.audit`): by the
#: worker or a command on the server.
NO_REQUEST_ADDRESS = "cli"
NO_REQUEST = _l("None: done on the server")

#: How an event turned out (``AuditEvent.outcome``), in words.
OUTCOMES: dict[str, Any] = {
    "ok": _l("Done"),
    "denied": _l("Refused"),
    "failed": _l("Failed"),
    "incomplete": _l("Not finished"),
}


def label(action: str) -> str:
    """``action`` in the reader's language; an unknown one (from an older version, or a plugin)
    as its words: ``foo.bar_baz`` reads "Bar baz (foo)"."""
    known = LABELS.get(action)
    return str(known) if known is not None else readable(action)


def delivery_label(action: str, channel: Any) -> str:
    """A delivery's event in words by its channel; `label` for a channel not named here."""
    known = DELIVERIES.get((action, channel)) if isinstance(channel, str) else None
    return str(known) if known is not None else label(action)


def address_label(client_address: str) -> str:
    """An event's client address as the page shows it: an address, or in words that there
    was none (an event of the server itself); empty for none recorded."""
    return str(NO_REQUEST) if client_address == NO_REQUEST_ADDRESS else client_address


def outcome_label(outcome: str) -> str:
    known = OUTCOMES.get(outcome)
    return str(known) if known is not None else readable(outcome)


def readable(key: str) -> str:
    """A key nobody labelled, as words rather than code: underscores become spaces, the part
    after the first dot leads and the area follows in brackets."""
    area, dot, what = (key or "").partition(".")
    words = (what if dot else area).replace("_", " ").replace(".", " ").strip() or "—"
    sentence = words[:1].upper() + words[1:]
    return f"{sentence} ({area.replace('_', ' ')})" if dot and area else sentence


def choices(actions: list[str]) -> list[tuple[str, str]]:
    """(action, label) for a filter, in the order of the labels."""
    return sorted(((action, label(action)) for action in actions),
                  key=lambda choice: choice[1].lower())
