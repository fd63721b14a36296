"""`handover plugins ...` (filled by the form-plugins work)."""

COMMANDS = ()
