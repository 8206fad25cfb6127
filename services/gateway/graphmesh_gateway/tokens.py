"""Opaque stream cursors and page tokens, signed so that they cannot be forged.

A cursor names (run, seq): resuming from it gives the events after seq; or
(run, seq, item) for a stream item inside a stored event that holds several
(MessageChunks): resuming gives the items after it, then the events after
seq. A
page token names a keyset position and the scope it was made for: the
caller's tenant and the filters of the listing. Both are base64url text
ending in an HMAC-SHA256 tag under the gateways' shared token secret
(GRAPHMESH_TOKEN_SECRET), so a client can pass them back but cannot make
or alter one. A token that does not decode, does not verify, or belongs to
another run or scope is refused with INVALID_ARGUMENT. A cursor is only
ever honoured after the run it names was found to be the caller's, so
another tenant's cursor is of no use either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from graphmesh.errors import InvalidArgument

_CURSOR_VERSION = "c2"
_ITEM_CURSOR_VERSION = "c3"
_PAGE_VERSION = "p2"


@dataclass(frozen=True, slots=True)
class PagePosition:
    """Where the next page starts: strictly before (created_at_us, run_id)."""

    created_at_us: int
    run_id: str


def _b64encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _b64decode(token: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    return raw.decode("utf-8")


def _cursor_malformed() -> InvalidArgument:
    return InvalidArgument(
        "cursor is malformed; pass the `cursor` of a received event, or none",
        reason="CURSOR_MALFORMED",
        field="cursor",
    )


class Tokens:
    """Makes and checks cursors and page tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        self._secret = secret

    def _tag(self, body: str) -> str:
        return hmac.digest(self._secret, body.encode(), "sha256").hex()[:32]

    def _verify(self, body: str, tag: str) -> bool:
        return hmac.compare_digest(self._tag(body), tag)

    def cursor(self, run_id: str, seq: int, item: int | None = None) -> str:
        """The cursor after event `seq` of `run_id`, or after its `item`-th
        stream item (from 0) when it holds several."""
        if item is None:
            body = f"{_CURSOR_VERSION}:{run_id}:{seq}"
        else:
            body = f"{_ITEM_CURSOR_VERSION}:{run_id}:{seq}:{item}"
        return _b64encode(f"{body}:{self._tag(body)}")

    def cursor_position(self, cursor: str, run_id: str) -> tuple[int, int]:
        """Where a cursor resumes: (after_seq, skip), the events after seq
        `after_seq` less the first `skip` stream items of the first of them
        ("" means the start: (0, 0)). The cursor must belong to `run_id`."""
        if not cursor:
            return 0, 0
        try:
            version, cursor_run, *numbers, tag = _b64decode(cursor).split(":")
            valid = self._verify(":".join([version, cursor_run, *numbers]), tag)
            if not valid or (version, len(numbers)) not in (
                (_CURSOR_VERSION, 1),
                (_ITEM_CURSOR_VERSION, 2),
            ):
                raise ValueError(version)
            seq, *item = (int(n) for n in numbers)
            if seq < 0 or (item and (seq < 1 or item[0] < 0)):
                raise ValueError(seq)
        except (ValueError, UnicodeError, binascii.Error):
            raise _cursor_malformed() from None
        if cursor_run != run_id:
            raise InvalidArgument(
                "cursor belongs to another run", reason="CURSOR_FOREIGN", field="cursor"
            )
        return (seq - 1, item[0] + 1) if item else (seq, 0)

    def page_token(self, position: PagePosition, scope: tuple[str, ...]) -> str:
        """The token for the page after `position`, valid for `scope` only."""
        body = [_PAGE_VERSION, _scope_digest(scope), position.created_at_us, position.run_id]
        text = json.dumps(body, separators=(",", ":"))
        return _b64encode(f"{text}|{self._tag(text)}")

    def page_position(self, token: str, scope: tuple[str, ...]) -> PagePosition | None:
        """The position in a page token ("" means the first page)."""
        if not token:
            return None
        try:
            text, tag = _b64decode(token).rsplit("|", 1)
            if not self._verify(text, tag):
                raise ValueError("tag")
            version, digest, created_at_us, run_id = json.loads(text)
            if version != _PAGE_VERSION or not isinstance(created_at_us, int):
                raise ValueError(version)
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise InvalidArgument(
                "page_token is malformed", reason="PAGE_TOKEN_MALFORMED", field="page_token"
            ) from None
        if digest != _scope_digest(scope):
            raise InvalidArgument(
                "page_token was made for other filters",
                reason="PAGE_TOKEN_FILTER_MISMATCH",
                field="page_token",
            )
        return PagePosition(created_at_us, str(run_id))


def _scope_digest(scope: tuple[str, ...]) -> str:
    return hashlib.sha256("\x00".join(scope).encode()).hexdigest()[:16]
