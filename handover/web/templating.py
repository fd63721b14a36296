"""The Jinja environment Handover's pages render in: Flask's, with template globals whose key
list is cheap to take.

Each ``{% from "macros/…" import … %}`` asks which of the importing context's globals the
imported template lacks, by subtracting the template's globals keys from a set. Jinja keeps a
template's globals as a `ChainMap` over the environment's, whose keys view answers that
subtraction one key at a time in Python: some thirty look-ups through both maps per import, and
the handover page imports four times. Here the keys are gathered into a plain dict first, and
the subtraction runs in C. Everything else about the globals is Jinja's own.
"""

from collections import ChainMap

from flask import Flask
from flask.templating import Environment


class TemplateGlobals(ChainMap):
    """A template's globals over the environment's (Jinja's `ChainMap`), with a fast key list."""

    def keys(self):
        merged = {}
        for mapping in reversed(self.maps):
            merged.update(mapping)
        return merged.keys()


class HandoverEnvironment(Environment):
    def make_globals(self, d):
        return TemplateGlobals({} if d is None else d, self.globals)


class HandoverFlask(Flask):
    jinja_environment = HandoverEnvironment
