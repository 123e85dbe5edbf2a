"""examples/python/fashion_mnist.py runs as documented (on a subset)."""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "fashion_mnist.py"


def test_the_fashion_mnist_example_trains_predicts_and_sweeps(tmp_path, fashion_mnist):
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    out = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "1", "--subset", "3000",
                          "--device", "cpu", "--plot", str(tmp_path / "sweep.png")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "softmax: test accuracy 0." in text and "mlp:256,128: test accuracy" in text
    assert "planned batch 64" in text and text.count("samples/s, test accuracy") == 6
    try:
        import matplotlib  # noqa: F401
        assert (tmp_path / "sweep.png").stat().st_size > 0
    except ImportError:
        assert "matplotlib is not installed" in text
