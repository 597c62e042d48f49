"""Cooling schedules of classic simulated annealing: how hot, and how far to jump.

Each schedule answers two questions for temperature step ``k = 0, 1, 2, ...``:

- ``relative_temperature(k)``: ``t_k = T_k / T0``, from 1 down towards 0.
  The acceptance test uses the absolute temperature ``T_k = T0 * t_k``
  (chi-square units).
- ``steps(t, count, rng)``: ``count`` trial moves, each a vector measured in
  widths of the search box (a move of 1.0 crosses the whole box).

The step sizes depend on the *relative* temperature, so the same options
work whatever the scale of the chi-square. (SciPy's removed ``anneal`` fed
the absolute temperature into the step formulas, which made the step length
depend on the units of the objective.)

>>> import numpy as np
>>> s = FastSchedule(quench=1.0, m=1.0, n=1.0)
>>> s.relative_temperature(0)
1.0
>>> moves = s.steps(1e-3, 5, 2, np.random.default_rng(0))
>>> moves.shape, bool(np.all(np.abs(moves) <= 1.0))
((5, 2), True)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BoltzmannSchedule", "CauchySchedule", "FastSchedule", "Schedule"]

# below this the fast-schedule step formula loses all precision; the chain is frozen anyway
_TINY_TEMPERATURE = 1e-300


class Schedule:
    """Base of the classic schedules: a temperature law and a move generator."""

    name = "schedule"

    def relative_temperature(self, k: int) -> float:
        """``T_k / T0`` at temperature step ``k`` (1.0 at ``k = 0``)."""
        raise NotImplementedError

    def steps(self, t: float, count: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` moves of ``size`` parameters at relative temperature ``t``, in box widths."""
        raise NotImplementedError


class FastSchedule(Schedule):
    """Ingber's very fast annealing (the seed's default, ``schedule='fast'``).

    ``T_k = T0 * exp(-c * k**quench)`` with ``c = m * exp(-n * quench)``.
    Each coordinate moves by ``sign(v) * t * ((1 + 1/t)**|v| - 1)`` box widths,
    ``v`` uniform on [-1, 1]: a fat-tailed law, so even a cold chain still
    makes an occasional jump across the box.
    """

    name = "fast"

    def __init__(self, quench: float, m: float, n: float) -> None:
        self.quench = quench
        self.rate = m * math.exp(-n * quench)

    def relative_temperature(self, k: int) -> float:
        """``exp(-c * k**quench)``."""
        return math.exp(-self.rate * k ** self.quench)

    def steps(self, t: float, count: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """Ingber's generating law, ``|move| <= 1`` box width."""
        t = max(t, _TINY_TEMPERATURE)
        v = rng.uniform(-1.0, 1.0, size=(count, size))
        magnitude = np.abs(v)
        # t * ((1 + 1/t)**|v| - 1) written so that tiny t neither overflows nor cancels
        return np.sign(v) * (np.exp(math.log(t) + magnitude * math.log1p(1.0 / t)) - t)


class CauchySchedule(Schedule):
    """Fast (Cauchy) annealing after Szu and Hartley, ``schedule='cauchy'``.

    ``T_k = T0 / (1 + k)``; moves are Cauchy distributed with scale
    ``learn_rate * t`` box widths.
    """

    name = "cauchy"

    def __init__(self, learn_rate: float) -> None:
        self.learn_rate = learn_rate

    def relative_temperature(self, k: int) -> float:
        """``1 / (1 + k)``."""
        return 1.0 / (1.0 + k)

    def steps(self, t: float, count: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """Cauchy moves (heavy tails; the box reflects the long ones back)."""
        angles = rng.uniform(-0.5 * np.pi, 0.5 * np.pi, size=(count, size))
        return (self.learn_rate * t) * np.tan(angles)


class BoltzmannSchedule(Schedule):
    """Classical (Boltzmann) annealing, ``schedule='boltzmann'``.

    ``T_k = T0 / ln(k + e)``: the slow logarithmic law (the textbook
    ``T0 / ln k`` shifted to start at ``T0``). Moves are Gaussian with
    standard deviation ``learn_rate * min(sqrt(t), 1 / (3 * learn_rate))`` box widths.
    """

    name = "boltzmann"

    def __init__(self, learn_rate: float) -> None:
        self.learn_rate = learn_rate

    def relative_temperature(self, k: int) -> float:
        """``1 / ln(k + e)``."""
        return 1.0 / math.log(k + math.e)

    def steps(self, t: float, count: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """Gaussian moves whose width shrinks as ``sqrt(t)``, capped at a third of the box."""
        scale = self.learn_rate * min(math.sqrt(t), 1.0 / (3.0 * self.learn_rate))
        return scale * rng.standard_normal(size=(count, size))
