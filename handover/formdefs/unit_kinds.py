"""The kinds of unit the core knows, with their labels: the one list of them.

A form definition names unit kinds in its routing, visibility and ``sender_kinds``; the loader
accepts these and the kinds plugins add through the ``register_unit_kinds`` hook. The merged
list of one app is ``handover.plugins.manager.unit_kinds()``; nothing else defines kinds.
"""

from handover.i18n import lazy_gettext as _l

#: Unit kinds of the domain brief, in the order forms and menus show them, with their labels
#: (translated through the interface's message catalogues). Professional family homes send
#: what foster carers and institutions send (most children in care who are psychiatry clients
#: live outside institutions: OMA TIIMI); the outpatient clinic takes part in a child's team
#: with the ward; the municipality's education department hears of a placement while it is
#: planned (Sisukas, Child Welfare Act s. 52 a).
CORE_UNIT_KINDS = {
    "child_welfare_institution": _l("Child-welfare institution"),
    "professional_family_home": _l("Professional family home"),
    "child_welfare_social_work": _l("Child-welfare social work"),
    "family_care": _l("Family care"),
    "psychiatric_ward": _l("Psychiatric ward"),
    "outpatient_psychiatry": _l("Child or adolescent psychiatric outpatient clinic"),
    "daycare": _l("Daycare"),
    "school": _l("School"),
    "education_department": _l("Municipal education department"),
}

__all__ = ["CORE_UNIT_KINDS"]
