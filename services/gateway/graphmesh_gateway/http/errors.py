"""graphmesh's errors as LangGraph Server's HTTP answers, in one place.

LangGraph Server answers an error with a status and `{"detail": text}`;
graphmesh adds its stable reason code (`reason`) beside it."""

from __future__ import annotations

from starlette.responses import JSONResponse

from graphmesh import errors


class NotServed(errors.GraphmeshError):
    """A part of LangGraph Server's API that graphmesh does not serve (501)."""


class TooLarge(errors.ResourceExhausted):
    """A request body over the API's limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the request body is larger than {limit} bytes", reason="REQUEST_TOO_LARGE"
        )


#: The HTTP status of each error class (the gRPC status's HTTP twin, as
#: LangGraph Server answers: 422 for a request it cannot read, 409 for a
#: busy thread or an id that exists).
HTTP_STATUS: dict[type[errors.GraphmeshError], int] = {
    NotServed: 501,
    TooLarge: 413,
    errors.InvalidArgument: 422,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.FailedPrecondition: 409,
    errors.ResourceExhausted: 429,
    errors.Unavailable: 503,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.DeadlineExceeded: 504,
    errors.Cancelled: 499,
    errors.DataLoss: 500,
    errors.Internal: 500,
}


def http_status(error: errors.GraphmeshError) -> int:
    """The HTTP status that answers `error`."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]  # type: ignore[index]
    return 500


def error_body(error: errors.GraphmeshError) -> dict[str, str]:
    """The JSON body of an error answer."""
    body = {"detail": error.message, "reason": error.reason}
    if error.field:
        body["field"] = error.field
    return body


def error_response(error: errors.GraphmeshError) -> JSONResponse:
    """The answer to a call that failed with `error`."""
    headers = {}
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return JSONResponse(error_body(error), status_code=http_status(error), headers=headers)


def invalid(reason: str, message: str, field: str | None = None) -> errors.InvalidArgument:
    """A request body or parameter the API cannot read (422)."""
    return errors.InvalidArgument(message, reason=reason, field=field)
