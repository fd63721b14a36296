"""Placeholder blueprint, filled by its area's work."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
