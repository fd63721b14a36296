"""`handover units ...` (filled by the accounts work)."""

COMMANDS = ()
