"""The envelope codec: sealing, unsealing, tampering, moving and rotating stored secrets."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpreg.crypto.codec import SecretContext, SecretValue, key_id_of, rewrap, seal, unseal
from mcpreg.crypto.keyring import KeyRing
from mcpreg.errors import SecretDecryptFailed, ValidationFailed

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
KEY_C = bytes(range(200, 232))
RING_A = KeyRing([("a", KEY_A)])
RING_BA = KeyRing([("b", KEY_B), ("a", KEY_A)])
RING_B = KeyRing([("b", KEY_B)])
RING_AC = KeyRing([("a", KEY_A), ("c", KEY_C)])
CTX = SecretContext(
    server="io.github.acme/weather", scope="environment", version="", environment="prod", name="API_KEY"
)
PLAINTEXT = "sk-live-0123456789-correct-horse"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decrypt_error(ring: KeyRing, token: str, context: SecretContext = CTX) -> SecretDecryptFailed:
    with pytest.raises(SecretDecryptFailed) as info:
        unseal(ring, token, context)
    return info.value


# -- round trips and freshness ------------------------------------------------------------


def test_a_sealed_value_unseals_to_the_same_text() -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    assert unseal(RING_A, token, CTX) == PLAINTEXT


def test_the_token_names_format_version_and_key_in_clear_but_not_the_value() -> None:
    token = seal(RING_BA, PLAINTEXT, CTX)
    prefix, version, key_id, wrapped, sealed = token.split(":")
    assert (prefix, version, key_id) == ("mcpreg", "v1", "b")
    assert token.isascii()
    assert len(unb64(wrapped)) == 12 + 32 + 16
    assert len(unb64(sealed)) == 12 + len(PLAINTEXT.encode()) + 16
    assert PLAINTEXT not in token
    assert key_id_of(token) == "b"


def test_sealing_the_same_value_twice_gives_unrelated_tokens() -> None:
    first = seal(RING_A, PLAINTEXT, CTX).split(":")
    second = seal(RING_A, PLAINTEXT, CTX).split(":")
    assert first[3] != second[3]
    assert first[4] != second[4]
    assert unb64(first[3])[:12] != unb64(second[3])[:12]
    assert unb64(first[4])[:12] != unb64(second[4])[:12]


def test_a_secret_value_wrapper_can_be_sealed() -> None:
    token = seal(RING_A, SecretValue(PLAINTEXT), CTX)
    assert unseal(RING_A, token, CTX) == PLAINTEXT


def test_an_empty_value_round_trips() -> None:
    assert unseal(RING_A, seal(RING_A, "", CTX), CTX) == ""


def test_a_value_that_is_not_valid_unicode_is_refused_at_seal_time() -> None:
    with pytest.raises(ValidationFailed) as info:
        seal(RING_A, "half a pair \ud800", CTX)
    assert info.value.code == "validation_failed"


# Context fields may even hold lone surrogates: their encoding must stay total and unambiguous.
any_chars = st.characters(exclude_categories=())
contexts = st.builds(
    SecretContext,
    server=st.text(any_chars, min_size=1, max_size=40),
    scope=st.sampled_from(["server", "release", "environment"]),
    version=st.text(any_chars, max_size=20),
    environment=st.text(any_chars, max_size=20),
    name=st.text(any_chars, min_size=1, max_size=40),
)
plaintexts = st.text(st.characters(codec="utf-8"), max_size=500)


@settings(max_examples=200, deadline=None)
@given(plaintext=plaintexts, context=contexts)
def test_any_unicode_value_round_trips_in_any_context(plaintext: str, context: SecretContext) -> None:
    token = seal(RING_BA, plaintext, context)
    assert unseal(RING_BA, token, context) == plaintext
    assert unseal(RING_BA, rewrap(RING_BA, token, context), context) == plaintext


@settings(max_examples=200, deadline=None)
@given(first=contexts, second=contexts)
def test_a_token_unseals_only_in_the_context_it_was_sealed_for(
    first: SecretContext, second: SecretContext
) -> None:
    token = seal(RING_A, PLAINTEXT, first)
    if first == second:
        assert unseal(RING_A, token, second) == PLAINTEXT
    else:
        assert decrypt_error(RING_A, token, second).code == "secret_decrypt_failed"


# -- moved tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"server": "io.github.acme/other"}, id="other-server"),
        pytest.param({"name": "OTHER_KEY"}, id="other-name"),
        pytest.param({"environment": "staging"}, id="other-environment"),
        pytest.param({"scope": "server", "environment": ""}, id="other-scope"),
        pytest.param({"scope": "release", "environment": "", "version": "1.0.0"}, id="release-scope"),
        pytest.param({"version": "prod", "environment": ""}, id="field-shifted"),
        pytest.param({"name": "api_key"}, id="name-case"),
    ],
)
def test_a_token_moved_to_another_row_fails_to_unseal(change: dict[str, str]) -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    error = decrypt_error(RING_A, token, dataclasses.replace(CTX, **change))  # type: ignore[arg-type]
    assert error.code == "secret_decrypt_failed"


def test_adjacent_context_fields_cannot_trade_characters() -> None:
    left = SecretContext(server="s", scope="release", version="1.0", environment="", name="x")
    right = SecretContext(server="s", scope="release", version="1.", environment="0", name="x")
    token = seal(RING_A, PLAINTEXT, left)
    assert decrypt_error(RING_A, token, right).code == "secret_decrypt_failed"


# -- tampering ---------------------------------------------------------------------------------


def _replace_char(token: str, index: int) -> str:
    substitute = "A" if token[index] != "A" else "B"
    return token[:index] + substitute + token[index + 1 :]


def test_changing_any_character_of_a_token_makes_it_fail() -> None:
    token = seal(RING_AC, PLAINTEXT, CTX)
    key_id_start = len("mcpreg:v1:")
    for index in range(len(token)):
        error = decrypt_error(RING_AC, _replace_char(token, index))
        expected = "unknown_key" if index == key_id_start else "secret_decrypt_failed"
        assert error.code == expected, index


@pytest.mark.parametrize("part", [3, 4], ids=["wrap-part", "value-part"])
def test_flipping_any_bit_of_the_wrap_or_value_bytes_makes_it_fail(part: int) -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    parts = token.split(":")
    raw = unb64(parts[part])
    for index in range(len(raw)):
        for bit in (0x01, 0x80):
            flipped = raw[:index] + bytes([raw[index] ^ bit]) + raw[index + 1 :]
            tampered = ":".join([*parts[:part], b64(flipped), *parts[part + 1 :]])
            assert decrypt_error(RING_A, tampered).code == "secret_decrypt_failed"


def test_swapping_the_value_part_between_two_tokens_makes_it_fail() -> None:
    first = seal(RING_A, PLAINTEXT, CTX).split(":")
    second = seal(RING_A, "another value of the same row", CTX).split(":")
    for mixed in (first[:4] + second[4:], second[:4] + first[4:], first[:3] + second[3:4] + first[4:]):
        assert decrypt_error(RING_A, ":".join(mixed)).code == "secret_decrypt_failed"


def test_swapping_the_wrap_and_value_halves_makes_it_fail() -> None:
    parts = seal(RING_A, PLAINTEXT, CTX).split(":")
    swapped = ":".join([*parts[:3], parts[4], parts[3]])
    assert decrypt_error(RING_A, swapped).code == "secret_decrypt_failed"


def test_relabelling_a_token_with_another_known_key_id_makes_it_fail() -> None:
    token = seal(RING_AC, PLAINTEXT, CTX)
    relabelled = token.replace("mcpreg:v1:a:", "mcpreg:v1:c:", 1)
    assert decrypt_error(RING_AC, relabelled).code == "secret_decrypt_failed"


def test_relabelling_a_token_with_another_format_version_makes_it_fail() -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    for version in ("v2", "v0", "V1", ""):
        relabelled = token.replace("mcpreg:v1:", f"mcpreg:{version}:", 1)
        assert decrypt_error(RING_A, relabelled).code == "secret_decrypt_failed"


def test_a_token_whose_key_left_the_ring_is_unknown_key() -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    error = decrypt_error(RING_B, token)
    assert error.code == "unknown_key"
    assert "'a'" in error.detail


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("plaintext-secret", id="not-a-token"),
        pytest.param("mcpreg:v1:a:AAAA", id="too-few-parts"),
        pytest.param("mcpreg:v1:a:AAAA:AAAA:AAAA", id="too-many-parts"),
        pytest.param("vault:v1:a:AAAA:AAAA", id="other-prefix"),
        pytest.param("mcpreg:v1:a b:AAAA:AAAA", id="bad-key-id"),
        pytest.param("mcpreg:v1:a:AA=A:AAAA", id="padding-inside"),
        pytest.param("mcpreg:v1:a:AAAA:AAAA", id="too-short"),
        pytest.param("mcpreg:v1:a::", id="empty-parts"),
    ],
)
def test_a_malformed_token_fails_with_the_decrypt_code(token: str) -> None:
    assert decrypt_error(RING_A, token).code == "secret_decrypt_failed"
    with pytest.raises(SecretDecryptFailed):
        rewrap(RING_A, token, CTX)


def test_a_truncated_token_fails() -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    for length in range(len(token)):
        with pytest.raises(SecretDecryptFailed):
            unseal(RING_A, token[:length], CTX)


def test_key_id_of_refuses_a_malformed_token() -> None:
    with pytest.raises(SecretDecryptFailed) as info:
        key_id_of("mcpreg:v1:a:nope")
    assert info.value.code == "secret_decrypt_failed"


# -- rotation ------------------------------------------------------------------------------------


def test_rotation_rewraps_to_the_new_primary_and_keeps_the_value_part() -> None:
    original = seal(RING_A, PLAINTEXT, CTX)
    assert key_id_of(original) == "a"

    rotated = rewrap(RING_BA, original, CTX)

    assert key_id_of(rotated) == "b"
    assert rotated.split(":")[4] == original.split(":")[4]
    assert rotated.split(":")[3] != original.split(":")[3]
    assert unseal(RING_BA, rotated, CTX) == PLAINTEXT
    assert unseal(RING_B, rotated, CTX) == PLAINTEXT
    assert decrypt_error(RING_B, original).code == "unknown_key"
    assert decrypt_error(RING_A, rotated).code == "unknown_key"


def test_rewrapping_a_token_already_under_the_primary_returns_it_unchanged() -> None:
    token = seal(RING_BA, PLAINTEXT, CTX)
    assert rewrap(RING_BA, token, CTX) == token
    rotated = rewrap(RING_BA, seal(RING_A, PLAINTEXT, CTX), CTX)
    assert rewrap(RING_BA, rotated, CTX) == rotated


def test_rewrap_refuses_a_token_from_another_row() -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    other = dataclasses.replace(CTX, name="OTHER")
    with pytest.raises(SecretDecryptFailed) as info:
        rewrap(RING_BA, token, other)
    assert info.value.code == "secret_decrypt_failed"


def test_rewrap_refuses_a_token_whose_key_is_gone() -> None:
    with pytest.raises(SecretDecryptFailed) as info:
        rewrap(RING_B, seal(RING_A, PLAINTEXT, CTX), CTX)
    assert info.value.code == "unknown_key"


def test_rewrap_refuses_a_token_with_a_tampered_wrap_part_even_under_the_primary() -> None:
    parts = seal(RING_A, PLAINTEXT, CTX).split(":")
    raw = bytearray(unb64(parts[3]))
    raw[-1] ^= 1
    tampered = ":".join([*parts[:3], b64(bytes(raw)), parts[4]])
    for ring in (RING_A, RING_BA):
        with pytest.raises(SecretDecryptFailed) as info:
            rewrap(ring, tampered, CTX)
        assert info.value.code == "secret_decrypt_failed"


# -- nothing leaks ----------------------------------------------------------------------------


def test_decrypt_errors_never_carry_plaintext_or_key_bytes() -> None:
    token = seal(RING_A, PLAINTEXT, CTX)
    errors = [
        decrypt_error(RING_A, token, dataclasses.replace(CTX, name="OTHER")),
        decrypt_error(RING_B, token),
        decrypt_error(RING_A, token[:-2]),
    ]
    for error in errors:
        rendered = f"{error} {error!r} {error.to_problem()} {error.args}"
        assert PLAINTEXT not in rendered
        assert b64(KEY_A) not in rendered
        assert KEY_A.hex() not in rendered
        assert error.__cause__ is None


def test_a_secret_value_never_shows_its_plaintext() -> None:
    value = SecretValue(PLAINTEXT)
    for rendered in (repr(value), str(value), f"{value}", repr([value]), repr({"v": value})):
        assert PLAINTEXT not in rendered
    assert repr(value) == "SecretValue('***')"
    assert str(value) == "SecretValue('***')"
    assert value.reveal() == PLAINTEXT


def test_secret_values_compare_by_content_and_are_not_hashable() -> None:
    assert SecretValue("x") == SecretValue("x")
    assert SecretValue("x") != SecretValue("y")
    assert SecretValue("x") != "x"
    with pytest.raises(TypeError):
        hash(SecretValue("x"))


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"scope": "global"}, id="unknown-scope"),
        pytest.param({"server": ""}, id="empty-server"),
        pytest.param({"name": ""}, id="empty-name"),
    ],
)
def test_an_invalid_context_fails_validation(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed) as info:
        dataclasses.replace(CTX, **fields)  # type: ignore[arg-type]
    assert info.value.code == "validation_failed"
