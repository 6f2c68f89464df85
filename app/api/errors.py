"""Every API error is JSON ``{"error": {"code", "message", ...}}``, never an HTML page."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
}
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


class ApiError(Exception):
    """An error a view raises to answer with a JSON error body."""

    def __init__(self, status: int, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.field = field


def json_error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> Response:
    """A JSON error response with the given status."""
    body: dict[str, object] = {"code": code or CODES.get(status, "error"), "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    response = jsonify(error=body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register_error_handlers(bp: Blueprint, prefix: str) -> None:
    """Answer errors of ``bp``'s routes, and unrouted URLs under ``prefix``, with JSON."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return json_error(exc.status, exc.message, code=exc.code, field=exc.field)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return _from_http_exception(exc)

    # Unrouted URLs never reach a blueprint, so these two must be app-wide;
    # outside the API prefix they hand the exception back unchanged.
    @bp.app_errorhandler(NotFound)
    @bp.app_errorhandler(MethodNotAllowed)
    def _unrouted(exc: HTTPException) -> Response | HTTPException:
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return _from_http_exception(exc)
        return exc


def _from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = exc.description or exc.name
    if status >= 500:  # never echo an internal error: it may quote SQL or customer data
        message = "internal error; the request was not completed"
    headers = {k: v for k, v in exc.get_headers() if k in _KEPT_HEADERS}
    return json_error(status, message, headers=headers)
