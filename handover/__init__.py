"""Handover: secure hand-over of child-welfare pre-information between Finnish agencies.

`create_app` is the only way to get an application; nothing is read or created at import time.
"""

from handover.app import create_app

__all__ = ["create_app"]
