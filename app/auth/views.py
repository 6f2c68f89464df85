"""Login and logout (being written)."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="../dashboard/templates")
