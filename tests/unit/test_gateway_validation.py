"""Request validation, cursors and page tokens of the gateway."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from graphmesh.errors import InvalidArgument
from graphmesh_gateway import tokens, validation

RUN_A = "11111111-1111-1111-1111-111111111111"
RUN_B = "22222222-2222-2222-2222-222222222222"


def reason(exc: pytest.ExceptionInfo[InvalidArgument]) -> str:
    return exc.value.reason


def test_input_must_be_a_json_object_within_the_limit() -> None:
    assert validation.input_json('{"n": 1}', 100) == {"n": 1}
    # No input: the run continues the thread (issue 14: it used to be {}).
    assert validation.input_json("", 100) is None
    # A graph whose input is not an object takes any JSON value.
    assert validation.input_json('"cat"', 100, require_object=False) == "cat"
    with pytest.raises(InvalidArgument) as exc:
        validation.input_json('{"n": ', 100)
    assert reason(exc) == "INPUT_MALFORMED_JSON" and exc.value.field == "input_json"
    with pytest.raises(InvalidArgument) as exc:
        validation.input_json("[1]", 100)
    assert reason(exc) == "INPUT_NOT_OBJECT"
    with pytest.raises(InvalidArgument) as exc:
        validation.input_json(json.dumps({"s": "x" * 200}), 100)
    assert reason(exc) == "INPUT_TOO_LARGE"
    for not_json in ('{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}'):
        with pytest.raises(InvalidArgument) as exc:
            validation.input_json(not_json, 100)
        assert reason(exc) == "INPUT_MALFORMED_JSON"
    deep = '{"a":' * 150 + "1" + "}" * 150
    with pytest.raises(InvalidArgument) as exc:
        validation.input_json(deep, 10_000)
    assert reason(exc) == "INPUT_TOO_DEEP"


def test_limit_counts_utf8_bytes_not_characters() -> None:
    text = json.dumps({"s": "é" * 40}, ensure_ascii=False)  # 80 bytes of é
    with pytest.raises(InvalidArgument):
        validation.input_json(text, 60)


@pytest.mark.parametrize("value", ["", "-x", "a" * 129, "has space", "a/b", "é"])
def test_malformed_thread_ids_are_refused(value: str) -> None:
    if value == "":
        assert validation.thread_id(value) == ""
        return
    with pytest.raises(InvalidArgument) as exc:
        validation.thread_id(value)
    assert reason(exc) == "THREAD_ID_MALFORMED"


def test_run_ids_must_be_uuids() -> None:
    assert validation.run_id(RUN_A.upper()) == RUN_A
    with pytest.raises(InvalidArgument) as exc:
        validation.run_id("not-a-run")
    assert reason(exc) == "RUN_ID_MALFORMED"


@pytest.mark.parametrize(
    ("size", "ok"), [(None, True), (1, True), (1000, True), (0, False), (-1, False), (1001, False)]
)
def test_page_size_bounds(size: int | None, ok: bool) -> None:
    if ok:
        assert validation.page_size(size) == (size or validation.DEFAULT_PAGE_SIZE)
    else:
        with pytest.raises(InvalidArgument) as exc:
            validation.page_size(size)
        assert reason(exc) == "PAGE_SIZE_OUT_OF_RANGE"


def test_fingerprint_tells_a_retry_from_a_reuse() -> None:
    a = validation.fingerprint("chain3", "", {"n": 0, "m": 1}, {})
    assert a == validation.fingerprint("chain3", "", {"m": 1, "n": 0}, {})
    assert a != validation.fingerprint("chain3", "", {"n": 1, "m": 1}, {})
    assert a != validation.fingerprint("fanout", "", {"n": 0, "m": 1}, {})


SIGNER = tokens.Tokens(b"k" * 32)


def _forged(body: str) -> str:
    """What a client could make without the secret: the body with a tag of
    its own (the unkeyed digest the tokens once carried)."""
    tag = hashlib.sha256(body.encode()).hexdigest()[:32]
    return base64.urlsafe_b64encode(f"{body}:{tag}".encode()).decode().rstrip("=")


def test_cursor_round_trip_and_refusals() -> None:
    cursor = SIGNER.cursor(RUN_A, 7)
    assert SIGNER.cursor_position(cursor, RUN_A) == (7, 0)
    assert SIGNER.cursor_position("", RUN_A) == (0, 0)
    # Inside an event of several items: the rest of event 7, then after it.
    assert SIGNER.cursor_position(SIGNER.cursor(RUN_A, 7, 2), RUN_A) == (6, 3)
    with pytest.raises(InvalidArgument) as exc:
        SIGNER.cursor_position(cursor, RUN_B)
    assert reason(exc) == "CURSOR_FOREIGN"
    for bad in (
        "%%%",
        "bm90LWEtY3Vyc29y",
        cursor[:-3],
        SIGNER.cursor(RUN_A, 1) + "x",
        SIGNER.cursor(RUN_A, 0, 1),
        SIGNER.cursor(RUN_A, 3, -1),
        _forged(f"c3:{RUN_A}:3:1"),
    ):
        with pytest.raises(InvalidArgument) as exc:
            SIGNER.cursor_position(bad, RUN_A)
        assert reason(exc) == "CURSOR_MALFORMED"


def test_cursors_cannot_be_forged_or_taken_to_another_gateway_secret() -> None:
    with pytest.raises(InvalidArgument) as exc:
        SIGNER.cursor_position(_forged(f"c2:{RUN_A}:3"), RUN_A)
    assert reason(exc) == "CURSOR_MALFORMED"
    other = tokens.Tokens(b"o" * 32)
    with pytest.raises(InvalidArgument) as exc:
        SIGNER.cursor_position(other.cursor(RUN_A, 3), RUN_A)
    assert reason(exc) == "CURSOR_MALFORMED"
    with pytest.raises(ValueError):
        tokens.Tokens(b"short")


def test_page_token_is_bound_to_its_tenant_and_filters() -> None:
    position = tokens.PagePosition(1_700_000_000_000_000, RUN_A)
    scope = ("acme", "chain3", "", "0")
    token = SIGNER.page_token(position, scope)
    assert SIGNER.page_position(token, scope) == position
    assert SIGNER.page_position("", scope) is None
    for other_scope in (("acme", "fanout", "", "0"), ("globex", "chain3", "", "0")):
        with pytest.raises(InvalidArgument) as exc:
            SIGNER.page_position(token, other_scope)
        assert reason(exc) == "PAGE_TOKEN_FILTER_MISMATCH"
    with pytest.raises(InvalidArgument) as exc:
        SIGNER.page_position("garbage!", scope)
    assert reason(exc) == "PAGE_TOKEN_MALFORMED"
    # A token whose position was edited no longer verifies.
    text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    edited = text.replace(RUN_A, RUN_B)
    tampered = base64.urlsafe_b64encode(edited.encode()).decode().rstrip("=")
    with pytest.raises(InvalidArgument) as exc:
        SIGNER.page_position(tampered, scope)
    assert reason(exc) == "PAGE_TOKEN_MALFORMED"


@pytest.mark.parametrize("depth", [101, 999, 5000, 200_000])
def test_json_nested_past_the_limit_is_too_deep_however_deep(depth: int) -> None:
    for text in ("[" * depth + "1" + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        with pytest.raises(InvalidArgument) as exc:
            validation.json_value(text, "input_json", 10_000_000, reason_prefix="INPUT")
        assert exc.value.reason == "INPUT_TOO_DEEP"
    assert validation.json_value("[" * 100 + "]" * 100, "x", 1000) is not None


@pytest.mark.parametrize(
    "text", ['{"s": "\\ud800"}', '{"\\uDFFF": 1}', '["ok", ["\\udbff x"]]', '"\\ud83d"']
)
def test_a_lone_surrogate_in_json_text_is_malformed(text: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        validation.json_value(text, "values_json", 1000, reason_prefix="VALUES")
    assert exc.value.reason == "VALUES_MALFORMED_JSON" and "lone surrogate" in exc.value.message


def test_a_surrogate_pair_and_a_nul_escape_are_text() -> None:
    assert validation.json_value('{"s": "\\ud83d\\ude00 a\\u0000b"}', "x", 1000) == {
        "s": "\U0001f600 a\x00b"
    }


def test_a_graph_id_too_long_is_refused_before_any_lookup() -> None:
    with pytest.raises(InvalidArgument) as exc:
        validation.graph_id("g" * 300)
    assert exc.value.reason == "GRAPH_ID_TOO_LONG"
