"""Test plugin: records what each event hook receives, to show it is a summary, not the row."""

from handover import hookimpl

RECEIVED = []


@hookimpl
def handover_sent(handover):
    RECEIVED.append(("sent", handover, None))


@hookimpl
def handover_opened(handover, unit):
    RECEIVED.append(("opened", handover, unit))


@hookimpl
def handover_acknowledged(handover):
    RECEIVED.append(("acknowledged", handover, None))
