"""Placeholder blueprint, filled by its area's work."""

from flask import Blueprint

bp = Blueprint("unit_lead", __name__)
