"""lmfit-host: non-linear least-squares fitting over named Parameters, with pluggable engines."""
from .errors import *  # noqa: F401,F403  (temporary during construction)
from .hookspecs import Engine, hookimpl  # noqa: F401
from .problem import BoundsTransform, EngineResult, FitProblem  # noqa: F401
