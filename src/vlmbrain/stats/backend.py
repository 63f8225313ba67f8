"""Array backend of the encoding stage: numpy, or torch on a device (``compute.*``).

One switch, :func:`get_backend` ``(name, device)``, modelled on himalaya's backends: the
estimators (:func:`vlmbrain.stats.glm.ar1_glm`, :func:`vlmbrain.encoding.ridge.ridge_loro`,
:func:`vlmbrain.attribution.banded.banded_ridge_loro`,
:class:`vlmbrain.neurons.cohort.GrayordinateEncoder`) take the object it returns as
``backend`` and do their per-target algebra (the GEMMs over time points and the
P x P x V work) through it; the numpy one is plain numpy, so the numpy path is exactly
the code it always was.

What runs where, in every backend:

* the heavy per-target arrays (time x targets, features x targets) are put on the device
  with :meth:`~NumpyBackend.asarray`, in the estimator's working dtype; its reductions
  accumulate in float64 where the estimator asks for it (:meth:`~NumpyBackend.coldot`,
  :meth:`~NumpyBackend.sum` with ``dtype``);
* the small P x P decompositions (eigendecompositions, pseudo-inverses of Gram matrices)
  stay in numpy float64 on the host: on a GPU they are slower than on a CPU core, and
  this way both backends decompose the very same matrices;
* results come back as numpy arrays (:meth:`~NumpyBackend.to_numpy`), on the host.

Unavailable torch, or an unavailable device, falls back to numpy with a warning in the
log, never silently. ``mps`` has no float64, which every estimator here accumulates in,
so it falls back to numpy too (with its own warning). float32 matrix products on CUDA run
at torch's default ``highest`` precision (no TF32); :func:`get_backend` warns when the
process has lowered it.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("vlmbrain")

__all__ = ["BACKENDS", "NumpyBackend", "TorchBackend", "get_backend"]

BACKENDS = ("numpy", "torch")


class NumpyBackend:
    """Array operations of the estimators on numpy (the default)."""

    name = "numpy"
    device = "cpu"

    def __repr__(self):
        return "NumpyBackend()"

    def asarray(self, a, dtype):
        """``a`` (array-like) as an array of this backend, ``dtype`` a numpy dtype."""
        return np.asarray(a, dtype=dtype)

    def astype(self, a, dtype):
        """``a`` cast to ``dtype`` (no copy when it already has it)."""
        return a.astype(dtype, copy=False)

    def to_numpy(self, a):
        """``a`` as a numpy array on the host."""
        return np.asarray(a)

    def index(self, idx):
        """Integer indices usable to index this backend's arrays."""
        return idx

    def coldot(self, a, b, dtype=None):
        """Column-wise dot products ``sum_t a[t, v] b[t, v]`` of two 2-D arrays -> (V,).

        ``np.einsum("tv,tv->v")``; ``dtype`` is the precision the products and sums are
        done in (default: the operands').
        """
        return np.einsum("tv,tv->v", a, b, dtype=dtype)

    def sum(self, a, axis, dtype=None):
        """Sum over ``axis``, accumulated in ``dtype`` (default: ``a``'s)."""
        return a.sum(axis, dtype=dtype)


class TorchBackend:
    """The same operations on a torch device (``compute.backend: torch``).

    Parameters
    ----------
    device : str
        ``cuda`` or ``cpu`` (already checked by :func:`get_backend`).
    """

    name = "torch"

    def __init__(self, device):
        import torch

        self.torch = torch
        self.device = torch.device(device)

    def __repr__(self):
        return f"TorchBackend({str(self.device)!r})"

    def _dtype(self, dtype):
        return {
            np.dtype(np.float32): self.torch.float32,
            np.dtype(np.float64): self.torch.float64,
        }[np.dtype(dtype)]

    def asarray(self, a, dtype):
        """``a`` as a tensor on the device; ``dtype`` a numpy dtype (float32, float64)."""
        if isinstance(a, self.torch.Tensor):
            return a.to(device=self.device, dtype=self._dtype(dtype))
        host = np.ascontiguousarray(a, dtype=dtype)  # torch needs positive strides
        return self.torch.as_tensor(host, device=self.device)

    def astype(self, a, dtype):
        """``a`` cast to ``dtype`` (no copy when it already has it)."""
        return a.to(self._dtype(dtype))

    def to_numpy(self, a):
        """``a`` as a numpy array on the host, never sharing memory with an input."""
        a = a.detach()
        if a.device.type == "cpu":
            return a.numpy().copy()
        return a.cpu().numpy()

    def index(self, idx):
        """Integer indices as a long tensor on the device."""
        return self.torch.as_tensor(np.asarray(idx), dtype=self.torch.long, device=self.device)

    def coldot(self, a, b, dtype=None):
        """Column-wise dot products ``sum_t a[t, v] b[t, v]`` -> (V,), the operands cast to
        ``dtype`` first (numpy's meaning). A product and a sum over rows: ``torch.einsum``
        makes V batched dot products of this, about 200 times slower on the CPU."""
        if dtype is not None:
            same = b is a
            a = a.to(self._dtype(dtype))
            b = a if same else b.to(self._dtype(dtype))  # one copy for a squared norm
        return (a * b).sum(0)

    def sum(self, a, axis, dtype=None):
        """Sum over ``axis``, accumulated in ``dtype`` (default: ``a``'s)."""
        return a.sum(axis, dtype=None if dtype is None else self._dtype(dtype))


def _torch_device(device):
    """The torch device to use for ``device``, or the reason numpy must be used instead."""
    try:
        import torch
    except ImportError:
        return None, "torch is not installed"
    if device == "cpu":
        return "cpu", None
    if device == "cuda":
        if not torch.cuda.is_available():
            return None, "CUDA is not available on this machine"
        if torch.get_float32_matmul_precision() != "highest":
            log.warning(
                "torch float32 matmul precision is %r: float32 products may use TF32 and "
                "differ from numpy by more than float32 rounding; call "
                "torch.set_float32_matmul_precision('highest') to avoid it",
                torch.get_float32_matmul_precision(),
            )
        return "cuda", None
    if device == "mps":
        return None, "mps has no float64, in which the encoding stage accumulates"
    raise ValueError(f"compute.device must be null, cpu, cuda or mps, got {device!r}")


def get_backend(name="numpy", device=None, threads=None):
    """The array backend ``name`` on ``device`` (``compute.backend``, ``compute.device``).

    Parameters
    ----------
    name : {"numpy", "torch"}
    device : str or None
        Torch device: ``cuda`` (the job's GPU), ``mps`` or ``cpu``; None is the CPU.
        Ignored by numpy.
    threads : int or None
        Intra-op threads of torch on the CPU (the job's threads); None leaves torch's.

    Returns
    -------
    NumpyBackend or TorchBackend
        numpy when asked, and also (with a warning in the log naming the reason) when
        torch is not installed, the device is not available, or it is ``mps``.

    Raises
    ------
    ValueError
        An unknown backend or device name.
    """
    if name not in BACKENDS:
        raise ValueError(f"compute.backend must be one of {BACKENDS}, got {name!r}")
    if name == "numpy":
        return NumpyBackend()
    target, reason = _torch_device("cpu" if device is None else device)
    if target is None:
        log.warning("compute.backend torch on %s: %s; the encoding stage runs on numpy instead",
                    device, reason)
        return NumpyBackend()
    backend = TorchBackend(target)
    if target == "cpu" and threads is not None:
        backend.torch.set_num_threads(int(threads))
    log.info("compute backend: torch on %s", backend.device)
    return backend
