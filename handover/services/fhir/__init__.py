"""Handover's content in the health and social sector's standard format, HL7 FHIR R4.

`questionnaire` turns a form definition into a ``Questionnaire``; `bundle` a handover (as its
reader may see it) into a ``Bundle``; `importing` a ``QuestionnaireResponse`` back into a
draft's content; `valuesets` checks the code bindings the library does not enforce. Resources
are built and validated with ``fhir.resources``' R4B models, whose JSON is R4's for every
resource used here; `shown` is what a reader may see of the content, shared with the JSON API.
"""
