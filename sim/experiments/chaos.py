"""Sobol indices from a polynomial chaos expansion (Sudret 2008): a metamodel of orthonormal
Legendre polynomials of the factors (each uniform on its range), fitted by least squares on a
Latin hypercube, whose first-order and total indices follow from its coefficients.

The degree is the one whose leave-one-out error is least (Blatman and Sudret 2010), among
those with at most a third as many terms as runs; the intervals are percentile-bootstrap 95%
intervals over the runs (the fit repeated on resamples), and ``explained`` is the
leave-one-out share of the output's variance the metamodel predicts (Q²): what it leaves
unexplained is attributed to no factor.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pandas as pd

BOOTSTRAP = 200  # resamples of the runs for the intervals
RUNS_PER_TERM = 3  # the least runs per term of the expansion
MAX_DEGREE = 12


@cache
def multi_indices(k: int, degree: int) -> np.ndarray:
    """Every exponent vector of ``k`` factors with total degree 1..``degree`` (rows)."""
    rows = [a for d in range(1, degree + 1)
            for a in _compositions(d, k)]
    return np.array(rows, dtype=np.int64).reshape(-1, k)


def _compositions(total: int, k: int) -> list[tuple[int, ...]]:
    """Exponent vectors of ``k`` factors adding up to ``total``."""
    out = []
    for bars in itertools.combinations(range(total + k - 1), k - 1):
        edges = (-1, *bars, total + k - 1)
        out.append(tuple(edges[i + 1] - edges[i] - 1 for i in range(k)))
    return out


def design_matrix(u: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """The orthonormal Legendre basis at points ``u`` in [-1, 1]^k: one column per exponent
    vector, after a column of ones."""
    degree = int(alphas.max()) if alphas.size else 0
    legendre = np.stack([np.polynomial.legendre.legval(u, np.eye(degree + 1)[n])
                         * np.sqrt(2 * n + 1) for n in range(degree + 1)])  # (n, rows, k)
    columns = np.ones((u.shape[0], len(alphas)))
    for j in range(u.shape[1]):
        columns *= legendre[alphas[:, j], :, j].T
    return np.hstack([np.ones((u.shape[0], 1)), columns])


def _loo_error(a: np.ndarray, y: np.ndarray) -> float:
    """Leave-one-out mean squared error of the least-squares fit (from the hat matrix)."""
    q, _ = np.linalg.qr(a)
    h = np.einsum("ij,ij->i", q, q)
    residual = y - q @ (q.T @ y)
    return float(np.mean((residual / np.clip(1 - h, 1e-12, None)) ** 2))


def choose_degree(u: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """The degree with the least leave-one-out error, and its Q² (1 - LOO error / var)."""
    k = u.shape[1]
    best = (1, np.inf)
    for degree in range(1, MAX_DEGREE + 1):
        alphas = multi_indices(k, degree)
        if len(alphas) + 1 > len(y) / RUNS_PER_TERM:
            break
        error = _loo_error(design_matrix(u, alphas), y)
        if error < best[1]:
            best = (degree, error)
    return best[0], 1 - best[1] / float(np.var(y))


def sobol_of(coefficients: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total indices of each factor from the expansion's coefficients
    (without the constant)."""
    power = coefficients ** 2
    variance = power.sum()
    if variance == 0:
        return np.full(alphas.shape[1], np.nan), np.full(alphas.shape[1], np.nan)
    involved = alphas > 0
    alone = involved & (involved.sum(axis=1, keepdims=True) == 1)
    return (power @ alone) / variance, (power @ involved) / variance


def indices(x: np.ndarray, y: np.ndarray, bounds: list[list[float]], names: list[str],
            seed: int) -> pd.DataFrame:
    """S1, ST, their 95% intervals (as half-widths of the bootstrap percentile interval,
    the wider side) and the metamodel's Q², one row per factor."""
    low, high = np.array(bounds, dtype=float).T
    u = 2 * (x - low) / (high - low) - 1
    degree, q2 = choose_degree(u, y)
    alphas = multi_indices(u.shape[1], degree)
    a = design_matrix(u, alphas)
    fit = np.linalg.lstsq(a, y, rcond=None)[0]
    s1, st = sobol_of(fit[1:], alphas)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP):
        rows = rng.integers(0, len(y), len(y))
        draws.append(sobol_of(np.linalg.lstsq(a[rows], y[rows], rcond=None)[0][1:], alphas))
    b1, bt = (np.array(d) for d in zip(*draws, strict=True))
    return pd.DataFrame({"S1": s1, "S1_conf": _half_width(s1, b1), "ST": st,
                         "ST_conf": _half_width(st, bt), "explained": q2, "degree": degree},
                        index=names)


def _half_width(point: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The wider side of the percentile 95% interval around ``point``."""
    lo, hi = np.nanquantile(draws, [0.025, 0.975], axis=0)
    return np.maximum(point - lo, hi - point)
