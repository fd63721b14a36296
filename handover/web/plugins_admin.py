"""Placeholder blueprint, filled by its area's work."""

from flask import Blueprint

bp = Blueprint("plugins_admin", __name__)
