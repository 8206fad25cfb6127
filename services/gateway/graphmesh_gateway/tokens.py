"""Opaque stream cursors and page tokens.

A cursor names (run, seq): resuming from it gives the events after seq. A
page token names a keyset position and the filters it was made for. Both are
base64url text; a token that does not decode, or belongs to another run or
other filters, is refused with INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from graphmesh.errors import InvalidArgument

_CURSOR_VERSION = "c1"
_PAGE_VERSION = "p1"


def _b64encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _b64decode(token: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    return raw.decode("utf-8")


def _check(body: str) -> str:
    # Catches truncated and mangled tokens; not a secret (see docs/security).
    return hashlib.sha256(body.encode()).hexdigest()[:8]


def encode_cursor(run_id: str, seq: int) -> str:
    """The cursor after event `seq` of `run_id`."""
    body = f"{_CURSOR_VERSION}:{run_id}:{seq}"
    return _b64encode(f"{body}:{_check(body)}")


def decode_cursor(cursor: str, run_id: str) -> int:
    """The seq a cursor points after ("" means the start); the cursor must
    belong to `run_id`."""
    if not cursor:
        return 0
    try:
        version, cursor_run, seq_text, check = _b64decode(cursor).split(":")
        seq = int(seq_text)
        if (
            version != _CURSOR_VERSION
            or seq < 0
            or check != _check(f"{version}:{cursor_run}:{seq_text}")
        ):
            raise ValueError(version)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidArgument(
            "cursor is malformed; pass the `cursor` of a received event, or none",
            reason="CURSOR_MALFORMED",
            field="cursor",
        ) from None
    if cursor_run != run_id:
        raise InvalidArgument(
            "cursor belongs to another run", reason="CURSOR_FOREIGN", field="cursor"
        )
    return seq


@dataclass(frozen=True, slots=True)
class PagePosition:
    """Where the next page starts: strictly before (created_at_us, run_id)."""

    created_at_us: int
    run_id: str


def _filter_digest(filters: tuple[str, ...]) -> str:
    return hashlib.sha256("\x00".join(filters).encode()).hexdigest()[:16]


def encode_page_token(position: PagePosition, filters: tuple[str, ...]) -> str:
    """The token for the page after `position`, valid for `filters` only."""
    body = [_PAGE_VERSION, _filter_digest(filters), position.created_at_us, position.run_id]
    text = json.dumps(body, separators=(",", ":"))
    return _b64encode(f"{text}|{_check(text)}")


def decode_page_token(token: str, filters: tuple[str, ...]) -> PagePosition | None:
    """The position in a page token ("" means the first page)."""
    if not token:
        return None
    try:
        text, check = _b64decode(token).rsplit("|", 1)
        if check != _check(text):
            raise ValueError(check)
        version, digest, created_at_us, run_id = json.loads(text)
        if version != _PAGE_VERSION or not isinstance(created_at_us, int):
            raise ValueError(version)
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InvalidArgument(
            "page_token is malformed", reason="PAGE_TOKEN_MALFORMED", field="page_token"
        ) from None
    if digest != _filter_digest(filters):
        raise InvalidArgument(
            "page_token was made for other filters",
            reason="PAGE_TOKEN_FILTER_MISMATCH",
            field="page_token",
        )
    return PagePosition(created_at_us, str(run_id))
