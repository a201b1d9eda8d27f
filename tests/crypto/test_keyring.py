"""The key ring: parsing MCPREG_SECRET_KEYS, generating entries, loading at startup."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.crypto.keyring import INSECURE_KEYS, KeyRing, generate_entry, key_weakness, load_keyring
from mcpreg.errors import ConfigurationError, SecretDecryptFailed, ValidationFailed

# Fixed but random-looking keys (counting bytes such as bytes(range(32)) are refused now).
KEY_A = hashlib.sha256(b"key a").digest()
KEY_B = hashlib.sha256(b"key b").digest()


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def test_the_first_entry_is_the_primary_and_every_entry_is_kept_in_order() -> None:
    ring = KeyRing.parse(f"b:{b64(KEY_B)},a:{b64(KEY_A)}")
    assert ring.primary_id == "b"
    assert ring.ids == ("b", "a")
    assert ring.key("a") == KEY_A
    assert ring.key("b") == KEY_B
    assert "a" in ring
    assert len(ring) == 2


def test_whitespace_and_newlines_around_entries_are_tolerated() -> None:
    ring = KeyRing.parse(f"\n  b:{b64(KEY_B)} ,\n\ta:{b64(KEY_A)}\n")
    assert ring.ids == ("b", "a")


def test_padded_base64_is_accepted() -> None:
    padded = base64.urlsafe_b64encode(KEY_A).decode()
    assert padded.endswith("=")
    assert KeyRing.parse(f"a:{padded}").key("a") == KEY_A


def test_a_generated_entry_parses_into_a_one_key_ring() -> None:
    entry = generate_entry()
    ring = KeyRing.parse(entry)
    assert ring.primary_id == entry.split(":")[0]
    assert ring.primary_id.startswith("k2")
    assert len(ring.key(ring.primary_id)) == 32
    assert ring.insecure_ids() == ()


def test_generated_entries_are_fresh_every_time() -> None:
    entries = {generate_entry("same") for _ in range(20)}
    assert len(entries) == 20
    assert len({generate_entry().split(":")[0] for _ in range(20)}) == 20


def test_generating_an_entry_with_an_invalid_id_fails_validation() -> None:
    with pytest.raises(ValidationFailed) as info:
        generate_entry("no spaces")
    assert info.value.code == "validation_failed"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("  \n ", id="blank"),
        pytest.param(f"a:{b64(KEY_A)},", id="trailing-empty-entry"),
        pytest.param(b64(KEY_A), id="missing-id"),
        pytest.param(f"a:{b64(KEY_A[:16])}", id="16-byte-key"),
        pytest.param(f"a:{b64(KEY_A + b'x')}", id="33-byte-key"),
        pytest.param(f"a:{base64.b64encode(bytes([251] * 32)).decode()}", id="standard-not-urlsafe"),
        pytest.param("a:not*base64*at*all*not*base64*at*all*not*ba", id="bad-base64"),
        pytest.param(f"a:{b64(KEY_A)}===", id="bad-padding"),
        pytest.param(f"a:{b64(KEY_A)},a:{b64(KEY_B)}", id="duplicate-id"),
        pytest.param(f"a:{b64(KEY_A)},b:{b64(KEY_A)}", id="duplicate-key"),
        pytest.param(f"a b:{b64(KEY_A)}", id="bad-id-chars"),
        pytest.param(f"{'x' * 33}:{b64(KEY_A)}", id="id-too-long"),
        pytest.param(f":{b64(KEY_A)}", id="empty-id"),
    ],
)
def test_an_unusable_key_ring_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        KeyRing.parse(text)
    assert info.value.code == "configuration_error"
    assert info.value.field == "MCPREG_SECRET_KEYS"


def test_a_non_canonical_key_encoding_is_refused() -> None:
    canonical = b64(KEY_A)
    # The last character of 43 carries 2 unused bits; setting them decodes to the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sloppy = canonical[:-1] + alphabet[alphabet.index(canonical[-1]) + 1]
    with pytest.raises(ConfigurationError):
        KeyRing.parse(f"a:{sloppy}")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"a:{b64(KEY_A[:16])}", id="wrong-length"),
        pytest.param(f"a:{b64(KEY_A)}!", id="bad-base64"),
        pytest.param(f"{b64(KEY_A)}", id="missing-id"),
        pytest.param(f"{b64(KEY_A)[:20]}:{b64(KEY_A)[20:]}", id="key-split-at-colon"),
        pytest.param(f"a:{b64(KEY_A)},a:{b64(KEY_A)}", id="duplicate"),
    ],
)
def test_configuration_errors_never_echo_key_material(text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        KeyRing.parse(text)
    rendered = f"{info.value} {info.value!r} {info.value.to_problem()}"
    for secret in (b64(KEY_A), b64(KEY_A)[:20], b64(KEY_A)[20:], b64(KEY_A[:16])):
        assert secret not in rendered


def test_a_ring_repr_shows_ids_but_never_key_bytes() -> None:
    ring = KeyRing.parse(f"b:{b64(KEY_B)},a:{b64(KEY_A)}")
    for rendered in (repr(ring), str(ring), f"{ring}"):
        assert "'b'" in rendered
        for key in (KEY_A, KEY_B):
            assert b64(key) not in rendered
            assert repr(key) not in rendered
            assert key.hex() not in rendered


def test_asking_for_a_key_id_not_in_the_ring_is_unknown_key() -> None:
    ring = KeyRing.parse(f"a:{b64(KEY_A)}")
    with pytest.raises(SecretDecryptFailed) as info:
        ring.key("gone")
    assert info.value.code == "unknown_key"


def test_placeholder_and_non_random_keys_are_reported_insecure() -> None:
    ring = KeyRing(
        [("zero", bytes(32)), ("ascii", b"my-super-secret-password-1234567"), ("ok", KEY_A)]
        + [(f"known{i}", key) for i, key in enumerate(sorted(INSECURE_KEYS - {bytes(32)}))]
    )
    assert "zero" in ring.insecure_ids()
    assert "ascii" in ring.insecure_ids()
    assert "ok" not in ring.insecure_ids()
    assert all(key_id.startswith("known") for key_id in ring.insecure_ids()[2:])
    assert len(ring.insecure_ids()) == len(ring) - 1


# -- load_keyring -------------------------------------------------------------------------


def test_the_inline_variable_is_read_first(tmp_path: Path) -> None:
    ring, warning = load_keyring({"MCPREG_SECRET_KEYS": f"a:{b64(KEY_A)}"}, tmp_path, dev=False)
    assert ring.primary_id == "a"
    assert warning is None
    assert not (tmp_path / "secret-keys").exists()


def test_the_keys_file_is_read_when_the_inline_variable_is_absent(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"b:{b64(KEY_B)},\na:{b64(KEY_A)}\n")
    ring, warning = load_keyring({"MCPREG_SECRET_KEYS_FILE": str(keys_file)}, tmp_path, dev=False)
    assert ring.ids == ("b", "a")
    assert warning is None


def test_setting_both_the_variable_and_the_file_is_refused(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"a:{b64(KEY_A)}")
    env = {"MCPREG_SECRET_KEYS": f"a:{b64(KEY_A)}", "MCPREG_SECRET_KEYS_FILE": str(keys_file)}
    with pytest.raises(ConfigurationError) as info:
        load_keyring(env, tmp_path, dev=True)
    assert info.value.code == "configuration_error"


def test_a_missing_keys_file_is_refused_even_in_dev_mode(tmp_path: Path) -> None:
    env = {"MCPREG_SECRET_KEYS_FILE": str(tmp_path / "absent")}
    with pytest.raises(ConfigurationError) as info:
        load_keyring(env, tmp_path, dev=True)
    assert info.value.field == "MCPREG_SECRET_KEYS_FILE"
    assert not (tmp_path / "secret-keys").exists()


def test_outside_dev_mode_startup_is_refused_without_keys(tmp_path: Path) -> None:
    for env in ({}, {"MCPREG_SECRET_KEYS": "  "}):
        with pytest.raises(ConfigurationError) as info:
            load_keyring(env, tmp_path, dev=False)
        assert info.value.code == "configuration_error"
        assert info.value.field == "MCPREG_SECRET_KEYS"
    assert not (tmp_path / "secret-keys").exists()


def _shuffled(values: list[int], seed: int) -> bytes:
    rng = random.Random(seed)
    rng.shuffle(values)
    return bytes(values)


LOW_ENTROPY_KEYS = [
    pytest.param(bytes(32), id="zero-bytes"),
    pytest.param(b"0" * 32, id="ascii-zeros"),
    pytest.param(b"\x07" * 32, id="one-repeated-byte"),
    pytest.param(b"correct-horse-battery-staple-123", id="a-password"),
    pytest.param(bytes(31) + b"\x01", id="all-zero-but-one"),
    pytest.param(b"\x01" + bytes(30) + b"\x01", id="all-zero-but-two"),
    pytest.param(bytes(12) + KEY_A[:20], id="twelve-identical-bytes"),
    pytest.param(bytes(range(32)), id="counting-up"),
    pytest.param(bytes(range(255, 223, -1)), id="counting-down"),
    pytest.param(bytes((250 + 7 * i) % 256 for i in range(32)), id="counting-by-7-wrapping"),
    pytest.param(b"\xde\xad\xbe\xef" * 8, id="repeating-4-byte-pattern"),
    pytest.param(KEY_A[:16] * 2, id="repeating-16-byte-half"),
    pytest.param(bytes((i // 2 * 3 + i % 2) % 256 for i in range(32)), id="steps-repeat-every-2"),
    pytest.param(
        _shuffled([v for v in (3, 40, 77, 130, 161, 200, 222, 251) for _ in range(4)], 7), id="8-values"
    ),
]


@pytest.mark.parametrize("key", LOW_ENTROPY_KEYS)
def test_a_low_entropy_key_is_judged_weak_with_a_reason(key: bytes) -> None:
    reason = key_weakness(key)
    assert reason is not None
    assert key.hex() not in reason
    assert b64(key) not in reason


@given(st.integers(min_value=0, max_value=2**64).map(lambda seed: random.Random(seed).randbytes(32)))
def test_random_32_byte_keys_always_pass(key: bytes) -> None:
    assert key_weakness(key) is None


def test_generated_keys_always_pass() -> None:
    for _ in range(200):
        entry = generate_entry()
        ring = KeyRing.parse(entry)
        assert key_weakness(ring.key(ring.primary_id)) is None


@given(st.integers(0, 255), st.integers(1, 255))
def test_any_arithmetic_sequence_is_weak(start: int, step: int) -> None:
    assert key_weakness(bytes((start + step * i) % 256 for i in range(32))) is not None


@given(st.binary(min_size=1, max_size=16))
def test_any_repeated_pattern_of_up_to_16_bytes_is_weak(pattern: bytes) -> None:
    assert key_weakness((pattern * 32)[:32]) is not None


@given(st.integers(0, 255), st.integers(0, 255), st.lists(st.integers(0, 31), max_size=31))
def test_any_key_of_two_byte_values_is_weak(common: int, other: int, positions: list[int]) -> None:
    key = bytearray([common] * 32)
    for position in positions:
        key[position] = other
    assert key_weakness(bytes(key)) is not None


@pytest.mark.parametrize("key", LOW_ENTROPY_KEYS)
def test_outside_dev_mode_insecure_keys_are_refused(tmp_path: Path, key: bytes) -> None:
    env = {"MCPREG_SECRET_KEYS": f"good:{b64(KEY_A)},weak:{b64(key)}"}
    with pytest.raises(ConfigurationError) as info:
        load_keyring(env, tmp_path, dev=False)
    assert info.value.code == "configuration_error"
    assert "weak" in info.value.detail
    assert str(key_weakness(key)) in info.value.detail
    assert "'good'" not in info.value.detail
    assert b64(key) not in info.value.detail


@pytest.mark.parametrize("key", [bytes(32), bytes(range(32))], ids=["zero-bytes", "counting-up"])
def test_in_dev_mode_insecure_keys_are_accepted_with_a_warning(tmp_path: Path, key: bytes) -> None:
    ring, warning = load_keyring({"MCPREG_SECRET_KEYS": f"weak:{b64(key)}"}, tmp_path, dev=True)
    assert ring.primary_id == "weak"
    assert warning is not None
    assert "weak" in warning
    assert str(key_weakness(key)) in warning


def test_dev_mode_generates_a_private_key_file_and_warns(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ring, warning = load_keyring({}, data_dir, dev=True)
    keys_file = data_dir / "secret-keys"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert warning is not None
    assert "MCPREG_SECRET_KEYS" in warning
    assert str(keys_file) in warning
    assert ring.insecure_ids() == ()
    assert b64(ring.key(ring.primary_id)) not in warning
    assert [p.name for p in data_dir.iterdir()] == ["secret-keys"]


def test_dev_mode_reuses_the_generated_key_file_on_the_next_start(tmp_path: Path) -> None:
    first, _ = load_keyring({}, tmp_path, dev=True)
    before = (tmp_path / "secret-keys").read_text()
    second, warning = load_keyring({}, tmp_path, dev=True)
    assert warning is not None
    assert second.ids == first.ids
    assert second.key(second.primary_id) == first.key(first.primary_id)
    assert (tmp_path / "secret-keys").read_text() == before


def test_an_existing_dev_key_file_is_used_as_it_is(tmp_path: Path) -> None:
    entry = f"other:{b64(KEY_B)}"
    fd = os.open(tmp_path / "secret-keys", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(entry)
    ring, _ = load_keyring({}, tmp_path, dev=True)
    assert ring.primary_id == "other"


def test_an_unusable_keys_file_is_blamed_on_the_file_setting(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"a:{b64(KEY_A[:16])}\n")
    with pytest.raises(ConfigurationError) as info:
        load_keyring({"MCPREG_SECRET_KEYS_FILE": str(keys_file)}, tmp_path, dev=False)
    assert info.value.field == "MCPREG_SECRET_KEYS_FILE"
    assert b64(KEY_A[:16]) not in info.value.detail


def test_dev_mode_refuses_to_start_when_the_key_file_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(ConfigurationError) as info:
        load_keyring({}, blocker / "data", dev=True)
    assert info.value.code == "configuration_error"


def test_the_test_suites_own_key_ring_is_random_and_passes_the_production_rule(tmp_path: Path) -> None:
    from tests.conftest import TEST_KEYS

    ring, warning = load_keyring({"MCPREG_SECRET_KEYS": TEST_KEYS}, tmp_path, dev=False)
    assert warning is None
    assert ring.weaknesses() == {}
