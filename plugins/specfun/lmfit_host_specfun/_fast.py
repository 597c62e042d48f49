"""Float-only fast functions that refuse numpy arrays, decided once at import.

The pack's functions try the float version first and fall back to numpy on
``TypeError``: with no test on the float path, a pack function costs what a
hand-written ``math`` call costs. That needs float-only functions to refuse
every array. NumPy >= 2.x (where the deprecation of NumPy 1.25 expired)
refuses to turn a one-element array into a float; older NumPy converts it
with a DeprecationWarning, which would return a float for a shape-(1,)
array. There, and only there, the float versions get a guard.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np


def _float_conversion_refuses_arrays() -> bool:
    """True when ``math`` functions raise TypeError for one-element numpy arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            math.sqrt(np.ones(1))
        except TypeError:
            return True
    return False


#: Whether float-only functions already refuse every numpy array.
REFUSES_ARRAYS = _float_conversion_refuses_arrays()


def float_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` itself where it refuses arrays with TypeError, else a guarded version."""
    if REFUSES_ARRAYS:
        return function

    ndarray = np.ndarray

    def guarded(*args: Any) -> Any:
        for argument in args:
            if isinstance(argument, ndarray):
                raise TypeError("an array goes to the numpy version")
        return function(*args)

    guarded.__name__ = getattr(function, "__name__", "guarded")
    return guarded
