"""One finding of `handover check`: its level ("error" fails the check) and one line saying
what is wrong and what to do. Shared by the modules that each look at one concern."""

from collections import namedtuple

Finding = namedtuple("Finding", "level message")


def error(message):
    return Finding("error", message)


def warning(message):
    return Finding("warning", message)
