"""A Nelder-Mead simplex engine for lmfit-host (the example of docs/plugins.md)."""

from scipy.optimize import minimize

from lmfit_host import EngineOptionError, EngineResult, hookimpl


class NelderMead:
    """Derivative-free simplex search on the sum of squares, in the unbounded internal space."""

    name = "neldermead"
    description = "Nelder-Mead simplex (SciPy) on the sum of squares"
    options = {
        "xatol": "absolute change in the internal parameters that counts as converged",
        "fatol": "absolute change in the sum of squares that counts as converged",
        "maxiter": "most simplex iterations",
    }

    def run(self, problem, **options):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise EngineOptionError(
                f"engine {self.name!r} has no option {unknown[0]!r}; "
                f"valid options: {', '.join(sorted(self.options))}")
        found = minimize(problem.objective_internal, problem.x0_internal,
                         method="Nelder-Mead", options=options)
        return EngineResult(x=problem.to_external(found.x), success=bool(found.success),
                            message=str(found.message), codes={"nit": int(found.nit)})


@hookimpl
def lmfit_host_register_engines(register):
    register(NelderMead())
