"""graphmesh's errors: one root, stable reason codes, one mapping to gRPC.

    GraphmeshError                  root of every error graphmesh raises
    ├── InvalidArgument             bad input in a request (INVALID_ARGUMENT)
    ├── NotFound                    an id names nothing (NOT_FOUND)
    ├── AlreadyExists               an idempotency key reused differently
    ├── FailedPrecondition          the request does not fit the state
    ├── ResourceExhausted           a rate limit or buffer was exceeded
    └── Unavailable                 a dependency is down (UNAVAILABLE)

Each error carries a `reason` (an UPPER_SNAKE code that clients can match on
and that never changes meaning) and, for bad fields, the field's name. The
gRPC layer turns them into a `google.rpc.Status` with `ErrorInfo` and
`BadRequest` details in `graphmesh.grpcutil.status_for` (and a `RetryInfo`
when the error says when to try again, a `QuotaFailure` when a quota was
hit). Authentication failures are `graphmesh.auth.Unauthenticated`.
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
