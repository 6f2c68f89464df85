"""Dashboard pages (being written)."""

from flask import Blueprint

bp = Blueprint("board", __name__, template_folder="templates")
