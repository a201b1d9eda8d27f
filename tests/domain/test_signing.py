"""Webhook signatures (``domain.signing``): HMAC-SHA256 over ``f"{t}." + body``, checked
against a digest computed by OpenSSL, and the verifier's refusals."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.signing import parse, sign, verify

# printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
OPENSSL = "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
T = 1_700_000_000
BODY = b'{"a":1}'


def test_the_signature_matches_openssls_hmac_of_the_timestamp_and_body() -> None:
    assert sign("whsec_test", BODY, T) == f"t={T},v1={OPENSSL}"


def test_a_signature_verifies_within_the_tolerance() -> None:
    header = sign("whsec_test", BODY, T)
    assert verify("whsec_test", BODY, header, now=T + 299)
    assert verify("whsec_test", BODY, header, now=T - 299)  # a receiver's clock a little behind


def test_an_old_or_future_signature_is_refused_as_a_replay() -> None:
    header = sign("whsec_test", BODY, T)
    assert not verify("whsec_test", BODY, header, now=T + 301)
    assert not verify("whsec_test", BODY, header, now=T - 301)
    assert verify("whsec_test", BODY, header, now=T + 3600, tolerance=3601)


def test_another_secret_another_body_or_another_time_does_not_verify() -> None:
    header = sign("whsec_test", BODY, T)
    assert not verify("whsec_other", BODY, header, now=T)
    assert not verify("whsec_test", b'{"a":2}', header, now=T)
    moved = header.replace(f"t={T}", f"t={T + 1}")
    assert not verify("whsec_test", BODY, moved, now=T)


def test_one_matching_digest_among_several_is_enough_for_a_rotating_sender() -> None:
    old, new = sign("old-secret", BODY, T), sign("new-secret", BODY, T)
    both = f"{new},v1={old.split('v1=')[1]}"
    assert verify("old-secret", BODY, both, now=T)
    assert verify("new-secret", BODY, both, now=T)


def test_a_malformed_header_never_verifies() -> None:
    for header in ("", "garbage", f"t={T}", f"v1={OPENSSL}", f"t=soon,v1={OPENSSL}", f"t={T},v0={OPENSSL}"):
        assert not verify("whsec_test", BODY, header, now=T), header
    assert parse(f" t={T} , v1={OPENSSL.upper()} ") == (T, [OPENSSL])


@given(secret=st.text(min_size=1, max_size=64), body=st.binary(max_size=512), t=st.integers(0, 2**40))
def test_whatever_is_signed_verifies_and_a_flipped_byte_does_not(secret: str, body: bytes, t: int) -> None:
    header = sign(secret, body, t)
    assert verify(secret, body, header, now=t)
    tampered = bytes([body[0] ^ 1]) + body[1:] if body else b"x"
    assert not verify(secret, tampered, header, now=t)
