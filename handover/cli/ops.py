"""Operator commands: `handover check` before go-live (`check`), `handover backup` and
`handover restore` (`backups`). `find_problems` is importable from here, for tests and tools
that ask for the findings without the command."""

from handover.cli.backups import backup_command, restore_command
from handover.cli.check import check_command, find_problems

__all__ = ["COMMANDS", "find_problems"]

COMMANDS = (check_command, backup_command, restore_command)
