"""Dashboard pages (being written)."""

from flask import Blueprint

bp = Blueprint("report", __name__, template_folder="templates")
