"""Arrays without copies where the library allows, on the CPU: NumPy in C
order and float32 is read in place; other layouts and dtypes are converted
once; host DLPack producers are read in place; gsgd's fused update changes
the caller's buffer in place. (The GPU half is in test_gpu.py.)"""

import numpy as np
import pytest

import gsgd


class DLPackOnly:
    """A host array seen only through DLPack (as a PyTorch CPU tensor or a
    JAX array would be)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, stream=None):
        return self._a.__dlpack__()

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def _data(order="C", dtype=np.float32):
    rng = np.random.default_rng(1)
    X = np.asarray(rng.normal(size=(300, 6)), dtype=dtype, order=order)
    y = (X[:, 0] > 0).astype(np.float32) + (X[:, 1] > 0)
    return X, y


def test_c_order_float32_is_read_in_place_without_gsgd_memory():
    ctx = gsgd.Context("cpu")
    X, y = _data()
    ds = gsgd.Dataset(ctx, X, y, 3)
    assert ds.copied == "none"
    assert ctx.memory() == (0, 0), "the caller's arrays are not gsgd's allocations"
    m = gsgd.Model(ctx, "softmax", 6, 3, seed=1)
    before = m.evaluate(ds)["loss"]
    X[:] = 0.0  # the dataset reads X itself: the change shows
    after = m.evaluate(ds)["loss"]
    assert after != before


@pytest.mark.parametrize("order,dtype", [("F", np.float32), ("C", np.float64),
                                         ("F", np.float64)])
def test_other_layouts_are_converted_once_and_train_the_same_bits(order, dtype):
    X, y = _data()
    Xo = np.asarray(X, dtype=dtype, order=order)
    ctx = gsgd.Context("cpu")
    assert gsgd.Dataset(ctx, Xo, y, 3).copied == "converted"
    a = gsgd.SGDClassifier(loss="log_loss", epochs=3, tol=None, device="cpu",
                           random_state=0).fit(X, y)
    b = gsgd.SGDClassifier(loss="log_loss", epochs=3, tol=None, device="cpu",
                           random_state=0).fit(Xo, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_uint8_images_are_converted_to_floats():
    rng = np.random.default_rng(2)
    X8 = rng.integers(0, 256, (200, 16), dtype=np.uint8)
    y = (X8[:, 0] > 127).astype(int)
    ds = gsgd.Dataset(gsgd.Context("cpu"), X8, y.astype(np.float32), 2)
    assert ds.copied == "converted"
    clf = gsgd.SGDClassifier(loss="log_loss", standardize=True, device="cpu",
                             random_state=0).fit(X8, y)
    assert clf.score(X8, y) > 0.9


def test_host_dlpack_producers_are_read_in_place():
    X, y = _data()
    ctx = gsgd.Context("cpu")
    ds = gsgd.Dataset(ctx, DLPackOnly(X), DLPackOnly(y), 3)
    assert ds.copied == "none" and ctx.memory() == (0, 0)
    a = gsgd.SGDClassifier(epochs=2, tol=None, device="cpu", random_state=0).fit(X, y)
    b = gsgd.SGDClassifier(epochs=2, tol=None, device="cpu", random_state=0).fit(
        DLPackOnly(X), y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_the_fused_update_changes_the_callers_buffer_in_place():
    # Momentum (PyTorch's SGD with momentum): v = mu v + g; w -= lr v.
    # Powers of two: every value below is exact in float32.
    w = np.array([1.0, 2.0], np.float32)
    g = np.array([0.5, -0.25], np.float32)
    opt = gsgd.Optimizer(2, "momentum", lr=0.5, momentum=0.5, device="cpu")
    addr = w.ctypes.data
    opt.step(w, g)
    np.testing.assert_array_equal(w, [0.75, 2.125])   # v = g
    opt.step(w, g)
    np.testing.assert_array_equal(w, [0.375, 2.3125])  # v = 0.5 g + g
    assert w.ctypes.data == addr


def test_the_update_refuses_buffers_it_cannot_use_in_place():
    opt = gsgd.Optimizer(4, device="cpu")
    g = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="float32"):
        opt.step(np.zeros(4), g)
    with pytest.raises(TypeError, match="contiguous"):
        opt.step(np.zeros(8, np.float32)[::2], g)
    with pytest.raises(ValueError, match="4"):
        opt.step(np.zeros(5, np.float32), np.zeros(5, np.float32))
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step(ro, g)


def test_sparse_csr_is_read_in_place_where_its_types_allow():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    ctx = gsgd.Context("cpu")
    rng = np.random.default_rng(2)
    X = scipy_sparse.random(50, 30, density=0.1, format="csr", dtype=np.float32, random_state=1)
    y = (rng.uniform(size=50) > 0.5).astype(np.float32)
    ds = gsgd.Dataset(ctx, X, y, 2)
    assert ds.sparse and ds.shape == (50, 30)
    # scipy's int32 row pointers become the library's int64: a copy of 51 numbers
    assert ds.copied == "converted"
    X.indptr = X.indptr.astype(np.int64)
    ds = gsgd.Dataset(ctx, X, y, 2)
    assert ds.copied == "none"
    assert ctx.memory() == (0, 0), "indices and values read in place"
    m = gsgd.Model(ctx, "logistic", 30, 2, seed=1)
    dense = gsgd.Dataset(ctx, X.toarray(), y, 2)
    assert not dense.sparse
    assert abs(m.evaluate(ds)["loss"] - m.evaluate(dense)["loss"]) < 1e-5
