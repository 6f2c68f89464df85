"""Dashboard pages (being written)."""

from flask import Blueprint

bp = Blueprint("incident", __name__, template_folder="templates")
