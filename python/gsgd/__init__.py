"""gsgd: minibatch SGD on the CPU and NVIDIA GPUs, from Python.

A thin binding over libgsgd (the C library the `gsgd` program, the C and
Fortran interfaces use): every kernel and fix serves all of them.

    import gsgd
    clf = gsgd.SGDClassifier(loss="log_loss", epochs=20).fit(X, y)
    clf.predict(X_test)

Estimators with scikit-learn's conventions: SGDClassifier, SGDRegressor,
MLPClassifier, MLPRegressor. Lower level: Context, Dataset, Model, Options, Trainer,
Optimizer (gsgd's fused update on your own buffers), plan(), bench().
Errors raise GsgdError subclasses that are also ValueError, MemoryError,
OSError or RuntimeError; the library's log goes to logging.getLogger("gsgd").
"""

from ._capi import (GsgdError, GsgdMemoryError, GsgdOSError, GsgdRuntimeError, GsgdValueError,
                    lib as _lib)
from ._core import Context, Dataset, Model, Options
from ._train import Optimizer, Trainer, checkpoint_options
from .linear import SGDClassifier, SGDRegressor
from .lowlevel import bench, info, load_fashion_mnist, plan
from .mlp import MLPClassifier, MLPRegressor

__version__ = _lib.gsgd_version_string().decode()

__all__ = ["SGDClassifier", "SGDRegressor", "MLPClassifier", "MLPRegressor",
           "Context", "Dataset", "Model",
           "Options", "Trainer", "Optimizer", "checkpoint_options", "plan", "bench", "info",
           "load_fashion_mnist", "GsgdError", "GsgdValueError", "GsgdMemoryError",
           "GsgdOSError", "GsgdRuntimeError", "__version__"]
