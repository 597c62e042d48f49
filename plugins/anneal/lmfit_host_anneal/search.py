"""The global search: a Metropolis chain cooled by a classic schedule, inside a search box.

The chain works in box coordinates ``z`` in [0, 1] per parameter
(``x = low + z * (high - low)``), so every schedule's moves are measured in
box widths. A move that leaves the box is reflected back in (not clipped,
which would pile trial points up on the edges). The box never reaches
outside the parameters' own bounds, so every trial point is a legal one.

This module knows nothing of Parameters or of the host: it minimizes a
scalar ``objective(x)`` and reports the best point it saw.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .schedules import Schedule

__all__ = ["ChainSettings", "SearchOutcome", "estimate_start_temperature", "run_chain"]

#: Random points drawn in the box to estimate T0 when the user gives none.
START_SAMPLES = 50
#: Temperature steps over which feps judges that the chain stopped moving.
FEPS_WINDOW = 4


@dataclass
class ChainSettings:
    """Stopping rules and constants of one annealing run (already validated)."""

    T0: Optional[float]
    Tf: Optional[float]
    maxiter: int
    dwell: int
    maxeval: Optional[int]
    maxaccept: Optional[int]
    feps: float
    boltzmann: float


@dataclass
class SearchOutcome:
    """What the chain found: best point, its chi-square, and how the run went."""

    x: np.ndarray
    chisqr: float
    nit: int
    naccept: int
    nfev: int
    T0: float
    T_final: float
    converged: bool
    message: str


def estimate_start_temperature(energies: np.ndarray) -> float:
    """T0 from chi-square values at random points: 1.5 times their spread.

    At that temperature an uphill move across the whole sampled range is
    accepted with probability ``exp(-1/1.5)``, so the first temperature steps
    wander freely. Without a spread (one value, a flat or broken objective)
    the scale of the values themselves stands in, or 1.0.

    >>> estimate_start_temperature(np.array([3.0, 5.0, np.inf]))
    3.0
    >>> estimate_start_temperature(np.array([40.0]))
    40.0
    """
    finite = energies[np.isfinite(energies)]
    spread = float(finite.max() - finite.min()) if finite.size else 0.0
    if spread > 0.0:
        return 1.5 * spread
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    return scale if scale > 0.0 else 1.0


def _reflect(z: np.ndarray) -> np.ndarray:
    """Fold box coordinates into [0, 1] as mirrors at 0 and 1 would."""
    return 1.0 - np.abs(np.mod(z, 2.0) - 1.0)


def run_chain(objective: Callable[[np.ndarray], float], x0: np.ndarray,
              low: np.ndarray, high: np.ndarray, schedule: Schedule,
              settings: ChainSettings, rng: np.random.Generator,
              default_tf_ratio: Optional[float] = None) -> SearchOutcome:
    """Cool a Metropolis chain from ``x0`` through ``schedule``; return the best point seen.

    Each temperature step makes ``settings.dwell`` trial moves. A move is
    taken when it lowers the chi-square, else with probability
    ``exp(-dE / (boltzmann * T))``. Non-finite chi-square values are never
    accepted. The run stops at the first of: T below Tf, feps (the chain's
    chi-square stopped changing), maxiter temperature steps, maxeval
    evaluations, maxaccept accepted moves. Without ``settings.Tf``, the final
    temperature is ``T0 * default_tf_ratio`` (no temperature stop when None).
    """
    size = x0.size
    width = high - low
    nfev = 0

    def at(z: np.ndarray) -> np.ndarray:
        # rounding in low + z*width may step a hair past high; bounds are a promise
        return np.minimum(low + z * width, high)

    z = np.clip((x0 - low) / width, 0.0, 1.0)
    energy = objective(at(z))
    nfev += 1
    if not energy < math.inf:  # NaN or inf: any finite point is better
        energy = math.inf
    best_z, best_energy = z.copy(), energy

    maxeval = math.inf if settings.maxeval is None else settings.maxeval
    T0 = settings.T0
    if T0 is None:
        n_samples = int(min(START_SAMPLES, max(maxeval - nfev, 0)))
        samples = rng.uniform(size=(n_samples, size))
        points = np.minimum(low + samples * width, high)
        energies = np.empty(n_samples + 1)
        energies[0] = energy
        for i in range(n_samples):
            energies[i + 1] = objective(points[i])
        nfev += n_samples
        energies[~(energies < math.inf)] = math.inf
        T0 = estimate_start_temperature(energies)
        i_min = int(np.argmin(energies))
        if i_min > 0 and energies[i_min] < best_energy:
            best_z, best_energy = samples[i_min - 1], float(energies[i_min])

    Tf = settings.Tf
    if Tf is None and default_tf_ratio is not None:
        Tf = T0 * default_tf_ratio
    maxaccept = math.inf if settings.maxaccept is None else settings.maxaccept
    kT_factor = settings.boltzmann
    recent: deque = deque(maxlen=FEPS_WINDOW + 1)
    naccept = 0
    nit = 0
    T = T0
    converged = False
    message = f"reached maxiter={settings.maxiter} temperature steps"
    for k in range(settings.maxiter):
        t = schedule.relative_temperature(k)
        T = T0 * t
        if Tf is not None and T < Tf:
            converged = True
            message = f"cooled to the final temperature Tf={Tf:.6g}"
            break
        count = int(min(settings.dwell, maxeval - nfev))
        if count <= 0:
            message = f"reached maxeval={settings.maxeval} evaluations"
            break
        moves = schedule.steps(t, count, size, rng)
        # accept an uphill dE when exp(-dE/kT) > u, i.e. dE < -kT ln(u), u in (0, 1]
        thresholds = -(kT_factor * T) * np.log1p(-rng.uniform(size=count))
        used = 0
        while used < count and naccept < maxaccept:
            # trial points of all remaining moves from the current point, in one numpy
            # pass; only an accepted move (rare once cool) makes them stale
            trials = _reflect(z + moves[used:])
            points = np.minimum(low + trials * width, high)
            for j in range(count - used):
                trial_energy = objective(points[j])
                if trial_energy < energy or trial_energy - energy < thresholds[used + j]:
                    z, energy = trials[j], trial_energy
                    naccept += 1
                    if energy < best_energy:
                        best_z, best_energy = z, energy
                    used += j + 1
                    break
            else:
                used = count
        nfev += used
        nit = k + 1
        if naccept >= maxaccept:
            message = f"reached maxaccept={settings.maxaccept} accepted moves"
            break
        recent.append(energy)
        if len(recent) > FEPS_WINDOW and math.isfinite(energy):
            reference = recent[0]
            if all(abs(e - reference) <= settings.feps * abs(reference) for e in recent):
                converged = True
                message = (f"the chain's chi-square changed by less than feps={settings.feps:g} "
                           f"over {FEPS_WINDOW} temperature steps")
                break
        if nfev >= maxeval:
            message = f"reached maxeval={settings.maxeval} evaluations"
            break
    return SearchOutcome(x=at(best_z), chisqr=float(best_energy), nit=nit, naccept=naccept,
                         nfev=nfev, T0=float(T0), T_final=float(T), converged=converged,
                         message=message)
