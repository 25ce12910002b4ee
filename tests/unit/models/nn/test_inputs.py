"""The numpy inputs of the networks (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from cardiospike.models.nn.inputs import CLIP, SCALE, SEQUENCE_CHANNELS, sequence_inputs, window_inputs


@pytest.mark.parametrize("n", [0, 1, 2, 17, 300])
def test_shapes(n):
    rr = np.full(n, 800.0)
    assert sequence_inputs(rr).shape == (len(SEQUENCE_CHANNELS), n)
    assert window_inputs(rr, half=8).shape == (n, 17, 3)


def test_sequence_channels_relative_to_median_and_masked():
    rr = np.array([800.0, 800.0, 880.0, 720.0, 2500.0, 800.0])
    x = sequence_inputs(rr)
    np.testing.assert_allclose(x[0], [0, 0, SCALE * 0.1, -SCALE * 0.1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(x[1], [0, 0, SCALE * 0.1, -SCALE * 0.2, 0, 0], atol=1e-6)  # no step across a gap
    # The local mean of beat 2 (window of 17: all valid beats) is the recording's mean 800.
    np.testing.assert_allclose(x[2], [0, 0, SCALE * 0.1, -SCALE * 0.1, 0, 0], atol=1e-6)
    np.testing.assert_array_equal(x[3], [1, 1, 1, 1, 0, 1])


def test_inputs_do_not_depend_on_heart_rate():
    rr = np.array([800.0, 810.0, 870.0, 730.0, 800.0, 805.0])
    np.testing.assert_allclose(sequence_inputs(rr), sequence_inputs(rr * 1.2), atol=1e-5)
    np.testing.assert_allclose(window_inputs(rr, 2), window_inputs(rr * 1.2, 2), atol=1e-5)


def test_all_invalid_gives_zeros_and_clipping():
    assert not sequence_inputs(np.array([100.0, 5000.0])).any()
    assert not window_inputs(np.array([100.0, 5000.0]), 2).any()
    x = sequence_inputs(np.array([400.0, 400.0, 1300.0]))
    assert np.abs(x[:2]).max() <= CLIP


def test_window_edges_are_masked():
    w = window_inputs(np.full(5, 800.0), half=3)
    np.testing.assert_array_equal(w[0, :, 2], [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(w[4, :, 2], [1, 1, 1, 1, 0, 0, 0])
    assert np.isfinite(w).all()
