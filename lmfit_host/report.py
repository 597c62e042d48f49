"""fit_report: the report a scientist reads, as text for a terminal and HTML for Jupyter.

>>> print(fit_report(result))          # doctest: +SKIP
>>> print(fit_report(params))          # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from .parameter import Parameter, Parameters

__all__ = ["fit_report", "fit_report_html", "report_fit"]


def _number(value: Optional[float], digits: int = 7) -> str:
    if value is None:
        return "-"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


def _bounds(param: Parameter) -> str:
    low, high = param.min, param.max
    low_text = "-inf" if low is None or low == -math.inf else _number(low)
    high_text = "inf" if high is None or high == math.inf else _number(high)
    if low_text == "-inf" and high_text == "inf":
        return ""
    return f"[{low_text}, {high_text}]"


def _relative(param: Parameter) -> str:
    if param.stderr is None or not param.value:
        return ""
    return f"{abs(param.stderr / float(param.value)) * 100:.2f}%"


def _parameter_rows(params: Parameters, init_values: Mapping[str, float],
                    sort: bool) -> List[Tuple[str, ...]]:
    names = sorted(params) if sort else list(params)
    rows: List[Tuple[str, ...]] = []
    for name in names:
        param = params[name]
        if param.expr:
            note = f"= {param.expr}"
        elif not param.vary:
            note = "fixed"
        else:
            note = _bounds(param)
        start = init_values.get(name)
        rows.append((name, _number(param.value), _number(param.stderr), _relative(param),
                     _number(start) if start is not None else "", note))
    return rows


def _correlations(params: Parameters, min_correl: float) -> List[Tuple[str, str, float]]:
    seen = set()
    pairs = []
    for name, param in params.items():
        for other, value in (param.correl or {}).items():
            key = tuple(sorted((name, other)))
            if key in seen or value is None or abs(value) < min_correl:
                continue
            seen.add(key)
            pairs.append((key[0], key[1], float(value)))
    pairs.sort(key=lambda item: -abs(item[2]))
    return pairs


def _split(inpars: Any) -> Tuple[Parameters, Any]:
    if isinstance(inpars, Parameters):
        return inpars, None
    params = getattr(inpars, "params", None)
    if isinstance(params, Parameters):
        return params, inpars
    raise TypeError(f"fit_report takes a fit result or Parameters, got {type(inpars).__name__}")


def _summary_lines(result: Any) -> List[str]:
    engine = getattr(result, "engine", "?")
    version = getattr(result, "engine_version", None)
    distribution = getattr(result, "engine_distribution", None)
    source = f" {version}" if version else ""
    if distribution:
        source += f" ({distribution})"
    if getattr(result, "aborted", False):
        state = "aborted"
    else:
        state = "converged" if getattr(result, "success", False) else "did not converge"
    lines = [f"Fit with engine {engine}{source}: {state}",
             f"  {getattr(result, 'message', '')}"]
    lines.append(f"  evaluations {result.nfev}, data points {result.ndata}, "
                 f"variables {result.nvarys}, degrees of freedom {result.nfree}")
    lines.append(f"  chi-square {_number(result.chisqr)}, reduced chi-square "
                 f"{_number(result.redchi)}")
    lines.append(f"  AIC {_number(result.aic)}, BIC {_number(result.bic)}")
    extra = getattr(result, "rsquared", None)
    if extra is not None:
        lines.append(f"  R-squared {_number(extra)}")
    if not getattr(result, "errorbars", False):
        lines.append(f"  no error bars: {getattr(result, 'errorbars_reason', '') or 'not estimated'}")
    elif getattr(result, "errorbars_reason", ""):
        lines.append(f"  error bars: {result.errorbars_reason}")
    return lines


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> List[str]:
    widths = [max(len(str(row[i])) for row in list(rows) + [header]) for i in range(len(header))]
    def line(cells: Sequence[str]) -> str:
        return "  " + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return [line(header)] + [line(row) for row in rows]


def fit_report(inpars: Any, modelpars: Optional[Parameters] = None, show_correl: bool = True,
               min_correl: float = 0.1, sort_pars: bool = False, **_: Any) -> str:
    """A text report of a fit result (or of Parameters alone).

    Shows how the engine ended, the goodness of fit, each parameter's value
    with its standard error and relative error, start value, bounds or
    expression, and the correlations whose size is at least ``min_correl``.
    ``modelpars`` (true values, when known) are shown beside the fitted ones.
    """
    params, result = _split(inpars)
    lines: List[str] = []
    if result is not None and hasattr(result, "nfev"):
        lines.extend(_summary_lines(result))
    init_values = dict(getattr(result, "init_values", None) or {})
    if not init_values:
        init_values = {name: p.init_value for name, p in params.items()
                       if getattr(p, "init_value", None) is not None and p.vary and not p.expr}
    rows = _parameter_rows(params, init_values, sort_pars)
    header = ["name", "value", "stderr", "rel.err", "start", "bounds / expression"]
    if modelpars is not None:
        header.insert(2, "true")
        rows = [row[:2] + (_number(modelpars[row[0]].value) if row[0] in modelpars else "",)
                + row[2:] for row in rows]
    lines.append("Parameters")
    lines.extend(_table(rows, header))
    if show_correl:
        pairs = _correlations(params, min_correl)
        if pairs:
            lines.append(f"Correlations (|C| >= {min_correl:g})")
            width = max(len(f"{a} ~ {b}") for a, b, _ in pairs)
            lines.extend(f"  {f'{a} ~ {b}'.ljust(width)}  {value:+.4f}" for a, b, value in pairs)
    return "\n".join(lines)


def report_fit(inpars: Any, **kws: Any) -> None:
    """Print :func:`fit_report` (the seed's name)."""
    print(fit_report(inpars, **kws))


def fit_report_html(inpars: Any, min_correl: float = 0.1) -> str:
    """The report as an HTML fragment (what Jupyter shows for a result)."""
    params, result = _split(inpars)
    esc = html.escape
    parts = ["<div class='lmfit-host-report'>"]
    if result is not None and hasattr(result, "nfev"):
        summary = _summary_lines(result)
        parts.append(f"<h4>{esc(summary[0])}</h4><p>" +
                     "<br>".join(esc(line.strip()) for line in summary[1:]) + "</p>")
    init_values = dict(getattr(result, "init_values", None) or {})
    rows = _parameter_rows(params, init_values, False)
    header = ["name", "value", "stderr", "rel.err", "start", "bounds / expression"]
    parts.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>")
    parts.append("</table>")
    pairs = _correlations(params, min_correl)
    if pairs:
        parts.append(f"<p>Correlations (|C| &ge; {min_correl:g})</p><table>")
        parts.extend(f"<tr><td>{esc(a)} ~ {esc(b)}</td><td>{value:+.4f}</td></tr>"
                     for a, b, value in pairs)
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)
