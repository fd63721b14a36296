"""Handover: secure hand-over of child-welfare pre-information between Finnish agencies.

`create_app` is the only way to get an application; nothing is read or created at import time.
Plugins mark their hook implementations with `hookimpl` (the hooks: `handover.hookspecs`).
"""

from handover.app import create_app
from handover.hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]
