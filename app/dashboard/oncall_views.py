"""Dashboard pages (being written)."""

from flask import Blueprint

bp = Blueprint("oncall", __name__, template_folder="templates")
