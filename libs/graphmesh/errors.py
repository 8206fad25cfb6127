"""graphmesh's errors: one root, stable reason codes, one mapping to gRPC.

    GraphmeshError                  root of every error graphmesh raises
    ├── InvalidArgument             bad input in a request (INVALID_ARGUMENT)
    ├── NotFound                    an id names nothing (NOT_FOUND)
    ├── AlreadyExists               an idempotency key reused differently
    ├── FailedPrecondition          the request does not fit the state
    ├── ResourceExhausted           a rate limit or buffer was exceeded
    ├── Unavailable                 a dependency is down (UNAVAILABLE)
    ├── Unauthenticated             no credentials, or bad ones
    ├── PermissionDenied            credentials that may not do this
    ├── DeadlineExceeded            the call's deadline passed
    ├── Cancelled                   the call was cancelled
    ├── DataLoss                    events went missing (a stream's gap)
    └── Internal                    a bug, or a status graphmesh never sends

The services raise them; the client (`graphmesh.client`) raises the same
classes for a failed call (`error_from_status`), so one `except NotFound`
works on both sides of the wire.

Each error carries a `reason` (an UPPER_SNAKE code that clients can match on
and that never changes meaning) and, for bad fields, the field's name. The
gRPC layer turns them into a `google.rpc.Status` with `ErrorInfo` and
`BadRequest` details in `graphmesh.grpcutil.status_for` (and a `RetryInfo`
when the error says when to try again, a `QuotaFailure` when a quota was
hit).
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

ERROR_DOMAIN = "graphmesh.dev"


class GraphmeshError(Exception):
    """Root of graphmesh's errors."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        field: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        quota_subject: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field
        self.metadata = dict(metadata or {})
        #: Seconds after which the same request may succeed, if known.
        self.retry_after = retry_after
        #: The subject of the quota this error is about, if it is about one.
        self.quota_subject = quota_subject


class InvalidArgument(GraphmeshError):
    """A request field is malformed, too large or out of range."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(GraphmeshError):
    """An id names no graph, run or thread."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(GraphmeshError):
    """An idempotency key was reused with other parameters."""

    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(GraphmeshError):
    """The request is well formed but does not fit the current state."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(GraphmeshError):
    """A rate limit was hit or a subscriber fell too far behind."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(GraphmeshError):
    """A dependency (database, broker, another service) cannot be reached."""

    code = grpc.StatusCode.UNAVAILABLE


class Unauthenticated(GraphmeshError):
    """The call carries no credentials, or credentials that do not verify."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(GraphmeshError):
    """The caller may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


class DeadlineExceeded(GraphmeshError):
    """The call's deadline passed before it was answered."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(GraphmeshError):
    """The call was cancelled (by its caller, or by a server shutting down)."""

    code = grpc.StatusCode.CANCELLED


class DataLoss(GraphmeshError):
    """Data went missing: a stream skipped events (reason STREAM_GAP)."""

    code = grpc.StatusCode.DATA_LOSS


class Internal(GraphmeshError):
    """A bug, or a status code graphmesh does not send (UNKNOWN, UNIMPLEMENTED...)."""

    code = grpc.StatusCode.INTERNAL


_ERROR_BY_CODE: dict[grpc.StatusCode, type[GraphmeshError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        ResourceExhausted,
        Unavailable,
        Unauthenticated,
        PermissionDenied,
        DeadlineExceeded,
        Cancelled,
        DataLoss,
        Internal,
    )
}


def error_class(code: grpc.StatusCode) -> type[GraphmeshError]:
    """The error class of a gRPC status code (Internal for the codes
    graphmesh does not send)."""
    return _ERROR_BY_CODE.get(code, Internal)
