"""Shared fixtures of the Python suite. The package under test is the
installed one (pip install .); GSGD_LIBRARY may point at another build."""

import os

import numpy as np
import pytest

import gsgd


def cuda_or_skip():
    """A CUDA context, or a visible skip saying why there is none."""
    try:
        return gsgd.Context("cuda")
    except gsgd.GsgdError as e:
        pytest.skip(f"no CUDA device: {e}")


@pytest.fixture
def blobs():
    """A small, well separated 3-class problem (float64, C order)."""
    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]])
    y = rng.integers(0, 3, 600)
    X = centers[y] + rng.normal(scale=0.5, size=(600, 3))
    return X, y


@pytest.fixture(scope="session")
def fashion_mnist():
    path = os.environ.get("GSGD_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
    try:
        return gsgd.load_fashion_mnist(path)
    except FileNotFoundError as e:
        pytest.skip(f"Fashion-MNIST not installed: {e}")
