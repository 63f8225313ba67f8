"""The encoding stage's array backend: torch (on the CPU here) gives numpy's numbers.

float64: equal to 1e-10 relative (the estimators decompose the same float64 matrices on the
host in both backends; only the summation order of the GEMMs differs). float32: ``beta``
and ``t`` to 1e-4 of their largest magnitude, r and R² to 1e-5 absolute; the chosen
hyperparameters are the same on these data (a near-tie could in principle flip in float32).
The fallback to numpy, when torch or the device is unavailable, is logged.
"""

import logging
import sys

import numpy as np
import pytest

from vlmbrain.attribution.banded import banded_ridge_loro, default_deltas
from vlmbrain.encoding.ridge import ridge_loro
from vlmbrain.encoding.subject import encode_layer
from vlmbrain.stats import add_intercept, ar1_glm
from vlmbrain.stats.backend import NumpyBackend, TorchBackend, get_backend

torch = pytest.importorskip("torch")

F64_RTOL = 1e-10
F32_REL = 1e-4  # beta, t: of the largest magnitude
F32_ATOL = 1e-5  # r, R2
ALPHAS = [0.1, 1.0, 10.0, 100.0, 1000.0]


@pytest.fixture(scope="module")
def data():
    """Four runs of AR(1) targets driven by 3 of 6 regressors; one target without data."""
    rng = np.random.default_rng(0)
    T, V = 240, 150
    X = rng.standard_normal((T, 6))
    Y = rng.standard_normal((T, V))
    for t in range(1, T):
        Y[t] += 0.4 * Y[t - 1]
    Y += 0.5 * X[:, :3] @ rng.standard_normal((3, V))
    Y = Y.astype(np.float32)
    Y[:, 7] = np.nan
    return X, Y, np.repeat(np.arange(4), T // 4)


@pytest.fixture(scope="module")
def cpu_torch():
    return get_backend("torch", "cpu")


def close(a, b, rtol=F64_RTOL, atol=0.0):
    """Same NaN pattern, finite values equal within ``atol + rtol * max|a|``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    finite = ~np.isnan(a)
    scale = np.abs(a[finite]).max()
    assert np.abs(a[finite] - b[finite]).max() <= atol + rtol * scale


def test_get_backend_numpy_and_torch_on_cpu(cpu_torch):
    assert isinstance(get_backend(), NumpyBackend)
    assert isinstance(get_backend("numpy", "cuda"), NumpyBackend)  # numpy ignores the device
    assert isinstance(cpu_torch, TorchBackend) and cpu_torch.device.type == "cpu"
    assert isinstance(get_backend("torch", None), TorchBackend)  # null device: the CPU
    with pytest.raises(ValueError, match="compute.backend"):
        get_backend("jax")
    with pytest.raises(ValueError, match="compute.device"):
        get_backend("torch", "tpu")


@pytest.mark.parametrize(
    "device, patch, reason",
    [
        ("cuda", "no_cuda", "CUDA is not available"),
        ("mps", None, "mps has no float64"),
        ("cuda", "no_torch", "torch is not installed"),
    ],
)
def test_unavailable_torch_or_device_falls_back_to_numpy_with_a_warning(
    monkeypatch, caplog, device, patch, reason
):
    if patch == "no_cuda":
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if patch == "no_torch":
        monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    with caplog.at_level(logging.WARNING, logger="vlmbrain"):
        be = get_backend("torch", device)
    assert isinstance(be, NumpyBackend)
    assert reason in caplog.text and "runs on numpy instead" in caplog.text


def test_torch_results_never_share_memory_with_inputs(cpu_torch):
    host = np.arange(6.0).reshape(2, 3)
    back = cpu_torch.to_numpy(cpu_torch.asarray(host, np.float64))
    back[0, 0] = -1.0
    assert host[0, 0] == 0.0
    t = cpu_torch.asarray(host[:, ::-1], np.float32)  # negative strides are copied
    assert t.dtype == torch.float32 and t.device.type == "cpu"
    assert np.array_equal(cpu_torch.to_numpy(t), host[:, ::-1].astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_glm_same_numbers(data, cpu_torch, dtype):
    X, Y, _ = data
    ref = ar1_glm(Y, add_intercept(X), chunk_size=64, dtype=dtype)
    out = ar1_glm(Y, add_intercept(X), chunk_size=64, dtype=dtype, backend=cpu_torch)
    rtol = F64_RTOL if dtype == np.float64 else F32_REL
    assert out["beta"].dtype == ref["beta"].dtype and out["dof"] == ref["dof"]
    np.testing.assert_array_equal(out["rho"], ref["rho"])  # the same AR(1) bins
    close(ref["beta"], out["beta"], rtol)
    close(ref["t"], out["t"], rtol)


def test_pairwise_glm_same_numbers(data, cpu_torch):
    X, Y, _ = data
    ref = ar1_glm(Y, X, pairwise=True)
    out = ar1_glm(Y, X, pairwise=True, backend=cpu_torch)
    close(ref["t"], out["t"])
    close(ref["r"], out["r"])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_runs", [4, 2])
def test_ridge_same_alphas_and_r(data, cpu_torch, dtype, n_runs):
    X, Y, runs = data
    runs = runs * n_runs // 4
    ref = ridge_loro(X, Y, runs, ALPHAS, chunk_size=64, dtype=dtype)
    out = ridge_loro(X, Y, runs, ALPHAS, chunk_size=64, dtype=dtype, backend=cpu_torch)
    np.testing.assert_array_equal(out["alpha_folds"], ref["alpha_folds"])
    if dtype == np.float64:
        close(ref["r_folds"], out["r_folds"])
    else:
        close(ref["r_folds"], out["r_folds"], 0.0, F32_ATOL)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_banded_ridge_same_hyperparameters_and_r2(data, cpu_torch, dtype):
    X, Y, runs = data
    spaces, deltas = [X[:, :3], X[:, 3:]], default_deltas(2, n_ratios=3)
    ref = banded_ridge_loro(spaces, Y, runs, deltas, ALPHAS, chunk_size=64, dtype=dtype)
    out = banded_ridge_loro(spaces, Y, runs, deltas, ALPHAS, chunk_size=64, dtype=dtype,
                            backend=cpu_torch)
    np.testing.assert_array_equal(out["candidate_folds"], ref["candidate_folds"])
    np.testing.assert_array_equal(out["alpha_folds"], ref["alpha_folds"])
    if dtype == np.float64:
        close(ref["r2_folds"], out["r2_folds"])
    else:
        close(ref["r2_folds"], out["r2_folds"], 0.0, F32_ATOL)


def test_encode_layer_same_maps(data, cpu_torch):
    """The encoding job's fit of one layer (float32 GLM and ridge, the workflow's dtypes)."""
    X, Y, runs = data
    ref = encode_layer(Y, X, runs, chunk_size=64)
    out = encode_layer(Y, X, runs, chunk_size=64, backend=cpu_torch)
    close(ref["beta"], out["beta"], F32_REL)
    close(ref["t"], out["t"], F32_REL)
    close(ref["r"], out["r"], 0.0, F32_ATOL)
    np.testing.assert_array_equal(out["alpha"], ref["alpha"])


def test_grayordinate_encoder_same_counts(cpu_torch):
    """The grayordinate encoder (float32 GEMMs): the same significant pairs, counts and
    best pairs; planted couplings far from the FDR threshold."""
    from vlmbrain.neurons.cohort import GrayordinateEncoder

    rng = np.random.default_rng(3)
    T, N, V = 160, 10, 1200
    X, Y = rng.standard_normal((T, N)), rng.standard_normal((T, V))
    Y[:, :300] += 0.8 * X[:, [2]]
    Y[:, 300:450] -= 0.8 * X[:, [5]]
    masks = np.zeros((2, V), bool)
    masks[0, :400], masks[1, 400:800] = True, True
    args = dict(q=0.05, chunk_size=500, n_shifts=20)
    ref = GrayordinateEncoder(Y, masks, **args).encode(X)
    out = GrayordinateEncoder(Y, masks, backend=cpu_torch, **args).encode(X)
    for key in ("an_counts", "an_total", "bn_counts", "an_enriched", "n_tests"):
        np.testing.assert_array_equal(out[key], ref[key], err_msg=key)
    close(ref["best_r"], out["best_r"], 0.0, F32_ATOL)
    close(ref["best_z"], out["best_z"], F32_REL)
    assert out["calibration"] == ref["calibration"]  # on the host, float64, in both
