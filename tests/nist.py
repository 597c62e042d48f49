"""The NIST StRD nonlinear regression problems: reader, models and scoring.

:func:`load_nist` reads one certified data file (``tests/data/nist/*.dat``)
into a :class:`NistProblem`: the model formula as NIST prints it, the two
official starting points, the certified values, standard deviations and
residual sum of squares, and the data. :data:`MODELS` holds each model as
Python, and :meth:`NistProblem.residual` is the residual a user would write
over Parameters ``b1 .. bk``. :func:`lre` scores an estimate in correct
significant digits (the log relative error NIST uses).

Plain numpy only, so benchmarks and the command line can reuse it::

    >>> problem = load_nist(NIST_DIR / "Misra1a.dat")
    >>> problem.name, problem.nparams, len(problem.y)
    ('Misra1a', 2, 14)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple, Union

import numpy as np

__all__ = ["MODELS", "NIST_DIR", "NIST_NAMES", "NistProblem", "load_all", "load_nist", "lre"]

#: Where the certified data files live in this repository.
NIST_DIR = Path(__file__).resolve().parent / "data" / "nist"

#: The 19 problems of lower and average difficulty, in NIST's order.
NIST_NAMES: Tuple[str, ...] = (
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c",
    "Misra1d", "Roszman1", "ENSO",
)

#: The certified values carry 11 significant digits; an exact match scores this.
MAX_DIGITS = 11.0

Model = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _exp3(b: Any, x: np.ndarray) -> np.ndarray:
    # Lanczos1, 2 and 3 share the sum of three exponentials
    return b[0] * np.exp(-b[1] * x) + b[2] * np.exp(-b[3] * x) + b[4] * np.exp(-b[5] * x)


def _gauss(b: Any, x: np.ndarray) -> np.ndarray:
    # Gauss1, 2 and 3: a decaying background plus two Gaussian peaks
    return (b[0] * np.exp(-b[1] * x)
            + b[2] * np.exp(-((x - b[3]) ** 2) / b[4] ** 2)
            + b[5] * np.exp(-((x - b[6]) ** 2) / b[7] ** 2))


def _chwirut(b: Any, x: np.ndarray) -> np.ndarray:
    return np.exp(-b[0] * x) / (b[1] + b[2] * x)


def _enso(b: Any, x: np.ndarray) -> np.ndarray:
    w = 2.0 * np.pi * x
    return (b[0] + b[1] * np.cos(w / 12.0) + b[2] * np.sin(w / 12.0)
            + b[4] * np.cos(w / b[3]) + b[5] * np.sin(w / b[3])
            + b[7] * np.cos(w / b[6]) + b[8] * np.sin(w / b[6]))


def _nelson(b: Any, x: np.ndarray) -> np.ndarray:
    # the response modelled is log(y); see NistProblem.response
    return b[0] - b[1] * x[:, 0] * np.exp(-b[2] * x[:, 1])


#: model(b, x) for each problem, b the parameter values in order b1, b2, ...
MODELS: Dict[str, Model] = {
    "Misra1a": lambda b, x: b[0] * (1.0 - np.exp(-b[1] * x)),
    "Misra1b": lambda b, x: b[0] * (1.0 - (1.0 + b[1] * x / 2.0) ** (-2)),
    "Misra1c": lambda b, x: b[0] * (1.0 - (1.0 + 2.0 * b[1] * x) ** (-0.5)),
    "Misra1d": lambda b, x: b[0] * b[1] * x / (1.0 + b[1] * x),
    "Chwirut1": _chwirut,
    "Chwirut2": _chwirut,
    "DanWood": lambda b, x: b[0] * x ** b[1],
    "Lanczos1": _exp3,
    "Lanczos2": _exp3,
    "Lanczos3": _exp3,
    "Gauss1": _gauss,
    "Gauss2": _gauss,
    "Gauss3": _gauss,
    "Kirby2": lambda b, x: (b[0] + b[1] * x + b[2] * x**2) / (1.0 + b[3] * x + b[4] * x**2),
    "Hahn1": lambda b, x: ((b[0] + b[1] * x + b[2] * x**2 + b[3] * x**3)
                           / (1.0 + b[4] * x + b[5] * x**2 + b[6] * x**3)),
    "Nelson": _nelson,
    "MGH17": lambda b, x: b[0] + b[1] * np.exp(-x * b[3]) + b[2] * np.exp(-x * b[4]),
    "Roszman1": lambda b, x: b[0] - b[1] * x - np.arctan(b[2] / (x - b[3])) / np.pi,
    "ENSO": _enso,
}

#: Problems whose certified response is a transform of the data column y.
_RESPONSE = {"Nelson": np.log}


@dataclass
class NistProblem:
    """One certified NIST StRD nonlinear regression problem.

    ``x`` has shape (n,) for one predictor, (n, k) for k predictors
    (Nelson). ``starts`` holds the two official starting points.
    """

    name: str
    model_source: str
    starts: Tuple[np.ndarray, np.ndarray]
    certified: np.ndarray
    certified_stderr: np.ndarray
    certified_rss: float
    x: np.ndarray
    y: np.ndarray

    @property
    def nparams(self) -> int:
        """Number of model parameters."""
        return len(self.certified)

    @property
    def param_names(self) -> List[str]:
        """The parameter names as NIST spells them: b1, b2, ..."""
        return [f"b{i + 1}" for i in range(self.nparams)]

    @property
    def response(self) -> np.ndarray:
        """The quantity the model fits: y, or log(y) for Nelson."""
        transform = _RESPONSE.get(self.name)
        return self.y if transform is None else transform(self.y)

    def model(self, b: Any, x: np.ndarray | None = None) -> np.ndarray:
        """The model evaluated at parameter values ``b`` (in order b1, b2, ...)."""
        return MODELS[self.name](b, self.x if x is None else x)

    def residual_function(self) -> Callable[..., np.ndarray]:
        """``fcn(params) -> data - model`` over Parameters named b1 .. bk.

        The data and model are bound once, as a user's closure would.
        """
        names = self.param_names
        model = MODELS[self.name]
        x = self.x
        data = self.response

        def residual(params: Any) -> np.ndarray:
            return data - model([params[name].value for name in names], x)

        return residual


_PARAM_LINE = re.compile(r"^\s*b(\d+)\s*=\s*(.*)$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def load_nist(path: Union[str, Path]) -> NistProblem:
    """Read one NIST StRD nonlinear regression file into a :class:`NistProblem`.

    The header gives the model (between ``Model:`` and the table of
    starting values), one line per parameter
    ``b1 = start1 start2 certified stderr``, the ``Residual Sum of Squares``,
    and the data after the line ``Data:  y  x ...``.
    """
    path = Path(path)
    lines = path.read_text().splitlines()
    name = re.search(r"Dataset Name:\s*(\S+)", "\n".join(lines[:5]))
    if name is None:
        raise ValueError(f"{path}: no 'Dataset Name:' line; is this a NIST StRD file?")

    model_lines: List[str] = []
    rows: Dict[int, List[float]] = {}
    rss = math.nan
    data_start = None
    in_model = False
    for number, line in enumerate(lines):
        if line.startswith("Model:"):
            in_model = True
            continue
        if in_model:
            if re.match(r"^\s*Starting [Vv]alues", line):
                in_model = False
            elif line.strip() and not re.search(r"\d+ Parameters", line):
                model_lines.append(line.strip())
            continue
        match = _PARAM_LINE.match(line)
        if match:
            values = [float(v) for v in re.findall(_NUMBER, match.group(2))]
            if len(values) != 4:
                raise ValueError(f"{path}:{number + 1}: expected 'bN = start1 start2 "
                                 f"certified stderr', got {line.strip()!r}")
            rows[int(match.group(1))] = values
        elif line.startswith("Residual Sum of Squares:"):
            rss = float(line.split(":", 1)[1])
        elif re.match(r"^Data:\s+y\s", line):
            data_start = number + 1
            break
    if not rows or data_start is None:
        raise ValueError(f"{path}: parameter table or data section not found")

    table = np.array([rows[i] for i in sorted(rows)])
    data = np.array([[float(v) for v in line.split()]
                     for line in lines[data_start:] if line.strip()])
    x = data[:, 1] if data.shape[1] == 2 else data[:, 1:]
    return NistProblem(
        name=name.group(1),
        model_source="\n".join(model_lines),
        starts=(table[:, 0].copy(), table[:, 1].copy()),
        certified=table[:, 2].copy(),
        certified_stderr=table[:, 3].copy(),
        certified_rss=rss,
        x=x,
        y=data[:, 0].copy(),
    )


def load_all(directory: Union[str, Path] = NIST_DIR) -> List[NistProblem]:
    """All 19 problems of :data:`NIST_NAMES`, read from ``directory``."""
    return [load_nist(Path(directory) / f"{name}.dat") for name in NIST_NAMES]


def lre(estimate: Any, certified: Any) -> np.ndarray:
    """Log relative error: the number of correct significant digits, per element.

    Capped at the 11 digits NIST certifies; a non-finite estimate scores 0.

    >>> float(lre(1.0000001, 1.0)) > 6.9
    True
    """
    estimate = np.asarray(estimate, dtype=float)
    certified = np.asarray(certified, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = -np.log10(np.abs(estimate - certified) / np.abs(certified))
    digits = np.where(np.isfinite(estimate), digits, 0.0)
    return np.clip(np.nan_to_num(digits, nan=0.0, posinf=MAX_DIGITS), 0.0, MAX_DIGITS)
