"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), on seeded streams.

The algorithm is Beaumont et al. (2009) / Toni et al. (2009): a population of parameter
vectors ("particles") is moved through generations with shrinking tolerance. Generation 0
draws from the prior and keeps the closest half; each later generation resamples the previous
population by weight, perturbs each draw with a Gaussian kernel of twice the population's
weighted covariance, simulates it and keeps it when its statistics are within the tolerance
(the median distance of the previous generation); the new weights are the prior density over
the kernel mixture.

Why not pyabc: its samplers draw from NumPy's global random state and accept particles in the
order workers return them, so a run on a Dask cluster is not reproducible from its seed. Here
every random number comes from :class:`sim.rng.Streams` keyed by (generation, batch,
purpose), candidates are simulated in fixed batches and accepted in candidate order, so the
posterior is the same for one seed on one process, a local pool or a Dask cluster.

The distance between simulated and observed statistics is Euclidean in units of each
statistic's sampling noise, ``sqrt(p (1 - p) (1/n_obs + 1/K))``: a model that fits
perfectly gives a distance of about the square root of the number of statistics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.errors import UserError
from sim.rng import Streams

_MAX_ROUNDS = 1000  # proposal rounds per batch (each round draws one batch of proposals)

Simulator = Callable[[np.ndarray, int], np.ndarray]
"""``simulate(theta, batch_seed)``: (B, P) parameter rows to (B, S) statistics."""


@dataclass(frozen=True)
class Prior:
    """A uniform prior on one parameter (or on its logarithm), by its dotted scenario path."""

    path: str
    low: float
    high: float
    why: str = ""
    log: bool = False  # uniform in log10(value): for rates that span orders of magnitude

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise UserError(f"prior of {self.path}: low must be below high")
        if self.log and self.low <= 0:
            raise UserError(f"prior of {self.path}: a log-uniform prior needs low > 0")

    def inner(self, x: np.ndarray) -> np.ndarray:
        """Values in the coordinates the sampler works in (log10 for a log prior)."""
        return np.log10(x) if self.log else np.asarray(x, dtype=np.float64)

    def outer(self, z: np.ndarray) -> np.ndarray:
        """Sampler coordinates back to parameter values."""
        return 10.0**z if self.log else np.asarray(z, dtype=np.float64)

    @property
    def label(self) -> str:
        """``uniform(a, b)`` or ``log-uniform(a, b)``."""
        return f"{'log-uniform' if self.log else 'uniform'}({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class Settings:
    """ABC-SMC settings (the defaults are the shipped calibration's)."""

    particles: int = 300
    generations: int = 14
    replicates: int = 100  # K simulated disputes per particle
    batch: int = 600  # candidates simulated together
    max_batches: int = 25  # per generation, so a hopeless tolerance cannot run forever
    min_acceptance: float = 0.02  # stop when a generation accepts fewer candidates
    quantile: float = 0.5  # next tolerance: this quantile of the accepted distances


@dataclass
class Generation:
    """What one generation did."""

    index: int
    tolerance: float
    simulated: int
    accepted: int
    seconds: float

    @property
    def acceptance(self) -> float:
        """Accepted over simulated candidates."""
        return self.accepted / max(self.simulated, 1)


@dataclass
class Posterior:
    """The final population: particles, their normalised weights and distances."""

    priors: tuple[Prior, ...]
    theta: np.ndarray  # (P, D)
    weights: np.ndarray  # (P,)
    distances: np.ndarray  # (P,)
    stats: np.ndarray  # (P, S) simulated statistics of each particle
    generations: list[Generation] = field(default_factory=list)
    stopped: str = ""

    @property
    def names(self) -> list[str]:
        """The parameter paths, in column order."""
        return [p.path for p in self.priors]

    def quantiles(self, q: Sequence[float]) -> np.ndarray:
        """(len(q), D) weighted quantiles of each parameter."""
        out = np.empty((len(q), self.theta.shape[1]))
        for j in range(self.theta.shape[1]):
            order = np.argsort(self.theta[:, j])
            cdf = np.cumsum(self.weights[order])
            cdf /= cdf[-1]
            idx = np.minimum(np.searchsorted(cdf, q), len(order) - 1)
            out[:, j] = self.theta[order, j][idx]
        return out

    def resample(self, n: int, seed: int) -> np.ndarray:
        """(n, D) rows drawn by weight (systematic resampling on a seeded stream)."""
        u0 = Streams(seed, np.array([0]))
        start = float(u0.uniform(0, 0, "abc:resample")[0])
        points = (start + np.arange(n)) / n
        cdf = np.cumsum(self.weights)
        cdf /= cdf[-1]
        idx = np.minimum(np.searchsorted(cdf, points), len(cdf) - 1)
        rows = self.theta[idx]
        # A fixed shuffle, so that the order of the table carries no meaning.
        key = Streams(seed, np.arange(n)).uniform(0, 0, "abc:shuffle")
        return rows[np.argsort(key, kind="stable")]


def noise_scale(observed: np.ndarray, counts: np.ndarray, replicates: int) -> np.ndarray:
    """Sampling noise of each share: observed from ``counts`` disputes, simulated from K."""
    p = np.clip(observed, 0.02, 0.98)
    return np.sqrt(p * (1 - p) * (1.0 / np.maximum(counts, 1) + 1.0 / replicates))


def _uniforms(seed: int, n: int, gen: int, batch: int, purpose: str, dims: int) -> np.ndarray:
    s = Streams(seed, np.arange(n))
    return np.stack([s.uniform(gen, batch, f"{purpose}:{j}") for j in range(dims)], axis=1)


def _normals(seed: int, n: int, gen: int, batch: int, dims: int) -> np.ndarray:
    s = Streams(seed, np.arange(n))
    return np.stack([s.normal(gen, batch, f"abc:kernel:{j}") for j in range(dims)], axis=1)


def abc_smc(
    priors: Sequence[Prior],
    observed: np.ndarray,
    scale: np.ndarray,
    simulate: Simulator,
    seed: int,
    settings: Settings | None = None,
    report: Callable[[Generation], None] | None = None,
) -> Posterior:
    """Run ABC-SMC to a posterior.

    Args:
        priors: Uniform priors, one per fitted parameter.
        observed: (S,) target statistics.
        scale: (S,) the unit of each statistic in the distance.
        simulate: The simulator (see :data:`Simulator`); must be deterministic in its seed.
        seed: Seed of every random number here and of each batch's simulation.
        settings: Population size, generations, batch size, stopping rules.
        report: Called after each generation.

    Returns:
        The last generation's population.
    """
    settings = settings or Settings()
    pri = tuple(priors)
    # The sampler works in each prior's own coordinates (log10 for log-uniform priors), where
    # every prior is uniform on [lo, hi]; the simulator gets parameter values.
    lo = np.array([float(p.inner(np.array(p.low))) for p in pri])
    hi = np.array([float(p.inner(np.array(p.high))) for p in pri])
    dims = len(pri)
    n_part = settings.particles

    def values(z: np.ndarray) -> np.ndarray:
        return np.stack([p.outer(z[:, j]) for j, p in enumerate(pri)], axis=1)

    def run(z: np.ndarray, s: int) -> np.ndarray:
        return simulate(values(z), s)

    def distance(stats: np.ndarray) -> np.ndarray:
        return np.sqrt((((stats - observed) / scale) ** 2).sum(axis=1))

    def batch_seed(gen: int, b: int) -> int:
        return (seed * 1_000_003 + gen * 1009 + b) % (2**63)

    # Generation 0: twice the population from the prior; the closer half survives.
    t0 = time.perf_counter()
    n0 = 2 * n_part
    theta0 = lo + _uniforms(seed, n0, 0, 0, "abc:prior", dims) * (hi - lo)
    stats0 = run(theta0, batch_seed(0, 0))
    d0 = distance(stats0)
    keep = np.argsort(d0, kind="stable")[:n_part]
    theta, stats, dist = theta0[keep], stats0[keep], d0[keep]
    weights = np.full(n_part, 1.0 / n_part)
    gens = [Generation(0, float(dist.max()), n0, n_part, time.perf_counter() - t0)]
    if report:
        report(gens[-1])
    stopped = f"{settings.generations} generations done"
    for g in range(1, settings.generations):
        t0 = time.perf_counter()
        eps = float(np.quantile(dist, settings.quantile))
        cov = 2.0 * np.cov(theta, rowvar=False, aweights=weights)
        cov = np.atleast_2d(cov) + np.diag(((hi - lo) * 1e-6) ** 2)
        chol = np.linalg.cholesky(cov)
        inv = np.linalg.inv(cov)
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        acc_t: list[np.ndarray] = []
        acc_s: list[np.ndarray] = []
        acc_d: list[np.ndarray] = []
        n_acc = simulated = 0
        for b in range(settings.max_batches):
            # Proposals outside the prior's box have zero prior density: draw rounds of them
            # (cheap) until the batch is full of candidates worth simulating.
            parts: list[np.ndarray] = []
            have = 0
            for r in range(_MAX_ROUNDS):
                key = b * _MAX_ROUNDS + r
                u = _uniforms(seed, settings.batch, g, key, "abc:parent", 1)[:, 0]
                parent = np.minimum(np.searchsorted(cdf, u, side="right"), n_part - 1)
                prop = theta[parent] + _normals(seed, settings.batch, g, key, dims) @ chol.T
                prop = prop[np.all((prop >= lo) & (prop <= hi), axis=1)]
                parts.append(prop)
                have += len(prop)
                if have >= settings.batch:
                    break
            cand = np.concatenate(parts)[: settings.batch]
            if len(cand) == 0:
                continue
            s_c = run(cand, batch_seed(g, b))
            d_c = distance(s_c)
            simulated += len(cand)
            ok = d_c <= eps
            acc_t.append(cand[ok])
            acc_s.append(s_c[ok])
            acc_d.append(d_c[ok])
            n_acc += int(ok.sum())
            if n_acc >= n_part:
                break
        if n_acc < n_part or n_acc / max(simulated, 1) < settings.min_acceptance:
            gens.append(Generation(g, eps, simulated, n_acc, time.perf_counter() - t0))
            if report:
                report(gens[-1])
            stopped = (
                f"generation {g} accepted {n_acc} of {simulated} candidates (below "
                f"{settings.min_acceptance:.0%} or short of {n_part}); kept generation {g - 1}"
            )
            break
        new_t = np.concatenate(acc_t)[:n_part]
        new_s = np.concatenate(acc_s)[:n_part]
        new_d = np.concatenate(acc_d)[:n_part]
        diff = new_t[:, None, :] - theta[None, :, :]
        kern = np.exp(-0.5 * np.einsum("ijk,kl,ijl->ij", diff, inv, diff))
        w = 1.0 / (kern @ weights)  # the uniform prior's density is a constant
        theta, stats, dist, weights = new_t, new_s, new_d, w / w.sum()
        gens.append(Generation(g, eps, simulated, n_part, time.perf_counter() - t0))
        if report:
            report(gens[-1])
    return Posterior(pri, values(theta), weights, dist, stats, gens, stopped)
