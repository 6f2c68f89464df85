"""Dashboard pages (being written)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates")
