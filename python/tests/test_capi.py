"""The binding itself: version, info, statuses as Python exceptions, the
library's log through logging."""

import logging
import pickle

import numpy as np
import pytest

import gsgd


def test_version_and_info_name_the_build():
    assert gsgd.__version__.count(".") == 2
    text = gsgd.info()
    assert text.startswith(f"gsgd {gsgd.__version__}")
    assert "backend:" in text


def test_a_bad_model_spec_is_a_value_error_naming_the_status_and_the_problem():
    ctx = gsgd.Context("cpu")
    with pytest.raises(ValueError) as e:
        gsgd.Model(ctx, "bogus", 4, 3)
    assert isinstance(e.value, gsgd.GsgdError)
    assert e.value.name == "INVALID_ARGUMENT" and e.value.status == 1
    assert "unknown model 'bogus'" in str(e.value)


def test_file_errors_are_os_errors_and_corrupt_files_value_errors(tmp_path):
    ctx = gsgd.Context("cpu")
    with pytest.raises(OSError) as e:
        gsgd.Model.load(ctx, tmp_path / "missing.gsgd")
    assert e.value.name == "IO"
    bad = tmp_path / "bad.gsgd"
    bad.write_bytes(b"not a model file at all" * 4)
    with pytest.raises(ValueError) as e:
        gsgd.Model.load(ctx, bad)
    assert e.value.name == "BAD_FORMAT" and str(bad) in str(e.value)


def test_output_errors_are_os_errors_io_for_the_path_write_failed_for_the_write(tmp_path):
    import os
    import resource
    import signal
    model = gsgd.Model(gsgd.Context("cpu"), "softmax", 4, 3)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError) as e:
        model.save(fifo)
    assert e.value.name == "IO" and "a FIFO" in str(e.value)
    assert e.value.status == 100
    # RLIMIT_FSIZE 0 makes every write to a file fail (EFBIG), as a full disk
    # does: the file is left as it was.
    keep = tmp_path / "keep.gsgd"
    keep.write_bytes(b"old")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    try:
        with pytest.raises(OSError) as e:
            model.save(keep)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert e.value.name == "WRITE_FAILED" and e.value.status == 104
    assert "File too large" in str(e.value)
    assert keep.read_bytes() == b"old"


def test_divergence_is_a_runtime_error():
    X = np.random.default_rng(0).normal(1000.0, 1.0, (256, 4))
    y = X.sum(axis=1)
    reg = gsgd.SGDRegressor(standardize=False, lr=1.0, epochs=5, device="cpu", random_state=0)
    with pytest.raises(RuntimeError) as e:
        reg.fit(X, y)
    assert e.value.name == "DIVERGED"


def test_options_are_checked_against_the_librarys_bounds():
    with pytest.raises(ValueError, match="lr"):
        gsgd.Options({"lr": -1.0})
    with pytest.raises(ValueError, match="unknown option"):
        gsgd.Options({"learning_rate": 0.1})
    with pytest.raises(ValueError, match="adam"):
        gsgd.Options({"optim": "adamax"})
    o = gsgd.Options({"optim": "adam", "beta2": 0.99, "schedule": "cosine"})
    assert (o["optim"], o["beta2"], o["schedule"]) == (3.0, 0.99, 3.0)


def test_the_librarys_log_goes_to_python_logging(caplog, blobs):
    X, y = blobs
    with caplog.at_level(logging.INFO, logger="gsgd"):
        gsgd.SGDClassifier(epochs=50, tol=1e-3, device="cpu", random_state=0).fit(X, y)
    messages = [r.getMessage() for r in caplog.records if r.name == "gsgd"]
    assert any("stopping after epoch" in m for m in messages), messages


def test_models_pickle_through_the_model_file_format(blobs):
    X, y = blobs
    ctx = gsgd.Context("cpu")
    m = gsgd.Model(ctx, "softmax", 3, 3, seed=5)
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.shape == ("softmax", 3, 3)
    np.testing.assert_array_equal(m.params()[0], m2.params()[0])
    np.testing.assert_array_equal(m.decision_function(X, 3), m2.decision_function(X, 3))
