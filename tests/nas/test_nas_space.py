"""The bitstring encoding of architectures: a bijection with clear errors."""

import itertools

import numpy as np
import pytest

from qnn.nas import CHOICES, N_BITS, Architecture, bits_key, decode, encode


def test_bitstrings_round_trip_and_decode_to_distinct_architectures():
    """Every value of every field in turn (all others all-zero and all-one), plus 2,000
    random strings: ``encode(decode(b)) == b`` makes decoding injective."""
    rng = np.random.default_rng(0)
    strings = [np.array(b, dtype=np.uint8) for b in itertools.product((0, 1), repeat=4)]
    strings = [np.tile(b, 4) for b in strings] + list(rng.integers(0, 2, (2000, N_BITS)))
    seen = set()
    for bits in strings:
        arch = decode(bits)
        np.testing.assert_array_equal(encode(arch), bits)
        seen.add(arch)
    assert len(seen) == len({bits_key(b) for b in strings})
    for name, values in CHOICES.items():
        assert {getattr(a, name) for a in seen} == set(values)


def test_fields_are_most_significant_bit_first_in_declaration_order():
    arch = decode("10" "01" "1" "0" "11" "10" "01" "1" "0" "11")
    assert arch == Architecture(conv_layers=2, channels=8, kernel_size=5, pool=False,
                                dense_layers=3, width=64, activation="tanh", skip=True,
                                norm=False, lr=3e-2)
    assert bits_key(encode(arch)) == "1001101110011011"
    assert decode("0" * N_BITS) == Architecture()
    assert sum(int(np.log2(len(v))) for v in CHOICES.values()) == N_BITS


@pytest.mark.parametrize("bits", ["0101", "0" * 15 + "2", np.zeros((2, 8)), "x" * 16])
def test_malformed_bits_are_refused(bits):
    with pytest.raises(ValueError, match="must be 16 values in"):
        decode(bits)


@pytest.mark.parametrize(("field", "value"), [("channels", 5), ("activation", "elu"),
                                              ("skip", 1), ("lr", 0.5)])
def test_values_outside_the_space_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"Architecture.{field}="):
        Architecture(**{field: value})
