"""`handover users ...` (filled by the accounts work)."""

COMMANDS = ()
