"""The C array sources hold exactly the model bytes, aligned, with their length."""
from __future__ import annotations

import os

import pytest

from nas.export import c_array


@pytest.mark.parametrize("size", [0, 1, 11, 12, 13, 4099])
def test_c_array_round_trips_to_identical_bytes(tmp_path, size):
    data = os.urandom(size)
    header, source = c_array.write_c_array(data, tmp_path, "g_test_model")
    text = source.read_text()
    assert c_array.parse_c_array(text) == data
    assert "alignas(16) const unsigned char g_test_model[]" in text
    assert f"g_test_model_len = {size};" in text
    assert "extern const unsigned char g_test_model[];" in header.read_text()
    assert f'#include "{header.name}"' in text


def test_parse_refuses_a_length_that_disagrees(tmp_path):
    text = c_array.source_text(b"\x01\x02\x03", "g_m").replace("g_m_len = 3;", "g_m_len = 4;")
    with pytest.raises(ValueError, match="3 bytes but its length line says 4"):
        c_array.parse_c_array(text)
