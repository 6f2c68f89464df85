"""Dashboard authentication and authorisation: who is logged in, and what their role allows.

Views use ``@requires(Role.MANAGER)``; templates put ``{{ csrf_field() }}`` in every form.
"""

from app.auth.access import current_user, requires
from app.auth.csrf import csrf_field, csrf_token
from app.models.user import Role

__all__ = ["Role", "csrf_field", "csrf_token", "current_user", "requires"]
