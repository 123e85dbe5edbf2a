"""Zero copy on the GPU: CuPy and PyTorch device arrays into
gsgd_dataset_from_device and gsgd_optimizer_step, on the caller's stream.
Each test skips, saying why, without a CUDA device, without CuPy or PyTorch,
or when the package was built without the CUDA backend."""

import numpy as np
import pytest

import gsgd
from conftest import cuda_or_skip


def _problem(n=4096, d=32, k=4, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, k))
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, np.argmax(X @ W, axis=1)


def test_cupy_arrays_are_trained_on_in_place():
    cp = pytest.importorskip("cupy")
    ctx = cuda_or_skip()
    X, y = _problem()
    Xd, yd = cp.asarray(X), cp.asarray(y.astype(np.float32))
    before = ctx.memory()[0]
    ds = gsgd.Dataset(ctx, Xd, yd, 4)
    assert ds.copied == "none" and ctx.memory()[0] == before
    clf = gsgd.SGDClassifier(loss="log_loss", epochs=5, tol=None, device="cuda",
                             random_state=0).fit(Xd, cp.asarray(y))
    assert clf.device_ == "cuda" and clf.score(X, y) > 0.9
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 3])


def test_a_partial_fit_loop_over_cupy_batches_trains():
    cp = pytest.importorskip("cupy")
    cuda_or_skip()
    X, y = _problem(n=16384)
    Xd, yd = cp.asarray(X), cp.asarray(y)
    clf = gsgd.SGDClassifier(loss="log_loss", batch_size=1024, device="cuda", random_state=0)
    for epoch in range(3):
        for i in range(0, len(X), 4096):
            clf.partial_fit(Xd[i:i + 4096], yd[i:i + 4096], classes=[0, 1, 2, 3])
    assert clf.score(X, y) > 0.9


def test_torch_tensors_are_trained_on_in_place():
    torch = pytest.importorskip("torch")
    cuda_or_skip()
    if not torch.cuda.is_available():
        pytest.skip("PyTorch sees no CUDA device")
    X, y = _problem()
    Xd = torch.as_tensor(X, device="cuda")
    yd = torch.as_tensor(y, device="cuda")
    clf = gsgd.MLPClassifier((64,), epochs=5, tol=None, device="cuda", random_state=0)
    assert clf.fit(Xd, yd).score(X, y) > 0.9


def test_the_fused_update_runs_on_a_torch_buffer_on_torch_s_stream():
    torch = pytest.importorskip("torch")
    cuda_or_skip()
    if not torch.cuda.is_available():
        pytest.skip("PyTorch sees no CUDA device")
    n = 1 << 20
    w = torch.randn(n, device="cuda", requires_grad=True)
    g = torch.randn(n, device="cuda")
    ref = w.detach().clone()
    buf = torch.zeros_like(ref)
    opt = gsgd.Optimizer(n, "momentum", lr=0.05, momentum=0.9, device="cuda")
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for _ in range(3):
            opt.step(w, g, stream=stream.cuda_stream)
            buf.mul_(0.9).add_(g)      # PyTorch's SGD with momentum, by hand
            ref.sub_(0.05 * buf)
    stream.synchronize()
    # Elementwise float32: a few roundings per step, 3 steps.
    torch.testing.assert_close(w.detach(), ref, rtol=1e-5, atol=1e-6)


def test_the_fused_update_on_cupy_buffers_changes_them_in_place():
    cp = pytest.importorskip("cupy")
    cuda_or_skip()
    w = cp.asarray([1.0, 2.0], dtype=cp.float32)
    g = cp.asarray([0.5, -0.25], dtype=cp.float32)
    ptr = w.data.ptr
    opt = gsgd.Optimizer(2, "momentum", lr=0.5, momentum=0.5, device="cuda")
    opt.step(w, g)
    opt.step(w, g)
    cp.cuda.Device().synchronize()
    np.testing.assert_array_equal(cp.asnumpy(w), [0.375, 2.3125])  # exact, as on the CPU
    assert w.data.ptr == ptr


def test_host_arrays_on_a_cuda_context_are_uploaded_once():
    ctx = cuda_or_skip()
    X, y = _problem()
    ds = gsgd.Dataset(ctx, X, y.astype(np.float32), 4)
    assert ds.copied == "uploaded" and ctx.memory()[0] >= X.nbytes


def test_fit_on_the_gpu_from_numpy_reaches_the_cpus_accuracy():
    cuda_or_skip()
    X, y = _problem()
    kw = dict(loss="log_loss", batch_size=256, epochs=5, tol=None, random_state=0)
    gpu = gsgd.SGDClassifier(device="cuda", **kw).fit(X, y)
    cpu = gsgd.SGDClassifier(device="cpu", **kw).fit(X, y)
    assert gpu.device_ == "cuda" and gpu.coef_.shape == cpu.coef_.shape  # read off the GPU
    # The same steps up to the order of float sums (the C suites bound the
    # kernels' agreement); here the behaviour: both learn the problem.
    assert gpu.score(X, y) > 0.9 and cpu.score(X, y) > 0.9
