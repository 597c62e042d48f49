"""Reading x, y (and sigma) columns from CSV, TSV or whitespace-separated text files.

The rules, chosen so that a file written by a spreadsheet, by
``numpy.savetxt`` or by hand reads without options:

- The text is UTF-8 (a byte-order mark is skipped), UTF-16 with its
  byte-order mark, or else Windows-1252.
- The delimiter is found from the first data line: a tab, else a
  semicolon (then ``1,5`` reads as 1.5, as spreadsheets write it in many
  locales), else a comma, else runs of whitespace; but when that delimiter
  does not split the next data lines into numbers and whitespace does (a
  tab ending each line, a tab-separated header over space-separated
  data), whitespace it is.
- Blank lines and lines starting with ``#`` are skipped. In
  whitespace-separated files, text after a ``#`` on a data line is a comment.
- The first non-comment line is a header when none of its fields is a
  number. Without one, a comment line just above the data holding one name
  per column (``# x y sigma``, as ``numpy.savetxt(header=...)`` writes) names
  the columns; when such names move the default x or y away from columns 1
  and 2, ``FitData.notes`` says so (the comment may be prose: ``# y vs x``).
- A column is chosen by its header name or by its 1-based number (a
  header never holds a number, so the two cannot be confused). Without a choice, x is the column named
  ``x`` (else column 1) and y the column named ``y`` (else column 2).
  Uncertainties (sigma) are read only from a column that is asked for.
- Empty fields and ``NA``, ``N/A``, ``null``, ``none``, ``nan`` are missing
  values. Rows holding a missing or infinite value are dropped under the
  ``'omit'`` policy (the count is kept), kept under ``'propagate'``, and an
  error under ``'raise'``.

Every problem is a :class:`DataFileError` naming the file, the line and the
column, and saying what to change.

>>> data = read_data("decay.csv", x="t", y="counts", sigma=3)   # doctest: +SKIP
>>> data.x, data.y, data.sigma, data.dropped                     # doctest: +SKIP
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import LmfitHostError

__all__ = ["DataFileError", "FitData", "Table", "read_data", "read_table"]

#: Field texts read as a missing value (compared in lower case, stripped).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-nan", "+nan"})

NAN_POLICIES = ("raise", "omit", "propagate")

ColumnSpec = Union[str, int, None]


class DataFileError(LmfitHostError, ValueError):
    """A data file cannot give the columns asked for; names file, line and column.

    ``path``, ``line`` (1-based, or None) and ``column`` (a label such as
    ``"2 ('y')"``, or None) locate the problem.
    """

    def __init__(self, message: str, path: Optional[str] = None, line: Optional[int] = None,
                 column: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


def _parse_number(text: str, decimal_comma: bool = False) -> Optional[float]:
    """The float in ``text``, NaN for a missing-value token, None when it is not a number.

    ``decimal_comma``: ``1,5`` means 1.5 (semicolon-separated files from
    spreadsheets in many locales).
    """
    stripped = text.strip()
    if decimal_comma and "," in stripped and "." not in stripped:
        stripped = stripped.replace(",", ".", 1)
    if stripped.lower() in MISSING_TOKENS:
        return math.nan
    try:
        return float(stripped)
    except ValueError:
        pass
    # Fortran double-precision exponents (1.5D+03) still appear in instrument output
    if "d" in stripped.lower():
        try:
            return float(stripped.lower().replace("d", "e", 1))
        except ValueError:
            return None
    return None


def _is_number(text: str, decimal_comma: bool = False) -> bool:
    stripped = text.strip()
    return (stripped.lower() not in MISSING_TOKENS
            and _parse_number(stripped, decimal_comma) is not None)


class Table:
    """A text table as read from a file: column names and the rows of fields.

    ``rows`` holds ``(line_number, fields)`` pairs for each data line, line
    numbers 1-based as an editor shows them. ``names`` holds one entry per
    column of the widest row: the header name, or None without one.

    A table read from a file keeps its data lines as text and splits them
    into fields only when asked (``rows``): a clean numeric column is read
    by numpy's parser in one pass (:meth:`numeric_column`), a million rows
    in about a second; the field-by-field reading that names the line and
    column of a problem runs only when that pass fails.
    """

    def __init__(self, path: str, delimiter: str, header_line: Optional[int],
                 names: List[Optional[str]],
                 rows: Optional[List[Tuple[int, List[str]]]] = None,
                 header_from_comment: bool = False,
                 lines: Optional[Tuple[Sequence[int], List[str]]] = None,
                 quoted: bool = True) -> None:
        self.path = path
        self.delimiter = delimiter
        self.header_line = header_line
        self.names = names
        #: the names come from a comment line above the data (``# x y sigma``)
        self.header_from_comment = header_from_comment
        self._rows = rows
        self._lines = lines if rows is None else None
        self._quoted = quoted
        self._parsed: Dict[int, np.ndarray] = {}
        self._numpy_failed = False

    def __repr__(self) -> str:
        return (f"Table({self.path!r}, delimiter={self.delimiter!r}, "
                f"header_line={self.header_line!r}, names={self.names!r}, rows={self.nrows})")

    @property
    def rows(self) -> List[Tuple[int, List[str]]]:
        """``(line_number, fields)`` for every data line (split on first use)."""
        if self._rows is None:
            numbers, texts = self._lines or ([], [])
            delimiter = self.delimiter
            self._rows = [(number, _split(text, delimiter))
                          for number, text in zip(numbers, texts)]
        return self._rows

    @rows.setter
    def rows(self, rows: List[Tuple[int, List[str]]]) -> None:
        self._rows, self._lines, self._parsed = rows, None, {}

    @property
    def nrows(self) -> int:
        """Number of data lines."""
        return len(self._lines[0]) if self._rows is None and self._lines else len(self.rows)

    @property
    def ncolumns(self) -> int:
        """Number of columns (of the widest row, or of the header)."""
        return len(self.names)

    @property
    def delimiter_name(self) -> str:
        """The delimiter in words: ``'comma'``, ``'tab'``, ``'semicolon'`` or ``'whitespace'``."""
        return {",": "comma", "\t": "tab", ";": "semicolon"}.get(self.delimiter, "whitespace")

    def label(self, index: int) -> str:
        """How messages name column ``index`` (0-based): ``"2 ('y')"`` or ``"2"``."""
        name = self.names[index] if index < len(self.names) else None
        return f"{index + 1} ({name!r})" if name else f"{index + 1}"

    def _columns_listing(self) -> str:
        return ", ".join(self.label(i) for i in range(self.ncolumns)) or "none"

    def resolve(self, spec: ColumnSpec, role: str) -> int:
        """The 0-based index of the column given by name or 1-based number ``spec``.

        ``role`` (``'x'``, ``'y'``, ``'sigma'``) names the option in messages.
        """
        if isinstance(spec, str):
            wanted = spec.strip()
            if wanted in self.names:
                return self.names.index(wanted)
            if not wanted.lstrip("+").isdigit():
                raise DataFileError(
                    f"{self.path}: no column named {wanted!r} for {role} (columns: "
                    f"{self._columns_listing()}); give a header name or a 1-based column number",
                    self.path, None, wanted)
            spec = int(wanted)
        if isinstance(spec, bool) or not isinstance(spec, (int, np.integer)):
            raise DataFileError(f"the {role} column must be a name or a 1-based number, "
                                f"not {spec!r}", self.path)
        number = int(spec)
        if number < 1 or number > self.ncolumns:
            raise DataFileError(
                f"{self.path}: column {number} requested for {role}, but the file has "
                f"{self.ncolumns} column{'s' if self.ncolumns != 1 else ''} "
                f"({self._columns_listing()}); columns are numbered from 1",
                self.path, None, str(number))
        return number - 1

    def default_column(self, role: str, fallback: int) -> int:
        """The column named ``role`` in the header, else the 0-based ``fallback``."""
        if role in self.names:
            return self.names.index(role)
        return fallback

    def _parsable(self) -> bool:
        # decimal commas and quoted fields are read field by field
        return self._rows is None and self._lines is not None and not self._quoted \
            and self.delimiter != ";" and not self._numpy_failed

    def prepare_columns(self, indices: Sequence[int]) -> None:
        """Parse the columns ``indices`` together in one pass of numpy's parser, where it
        applies; :meth:`numeric_column` then takes them from there."""
        wanted = [index for index in dict.fromkeys(indices) if index not in self._parsed]
        if len(wanted) < 2 or not self._parsable():
            return
        block = _numpy_columns(self._lines[1], self.delimiter, wanted)  # type: ignore[index]
        if block is None:
            self._numpy_failed = True  # irregular: read field by field, not parsed again
            return
        for position, index in enumerate(wanted):
            self._parsed[index] = block[:, position]

    def _parsed_column(self, index: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """Column ``index`` and the line numbers by numpy's parser, where it applies."""
        if not self._parsable():
            return None
        numbers, texts = self._lines  # type: ignore[misc]
        values = self._parsed.get(index)
        if values is None:
            block = _numpy_columns(texts, self.delimiter, [index])
            if block is None:
                return None
            values = block[:, 0]
        return values, np.asarray(numbers, dtype=int)

    def numeric_column(self, index: int, role: str) -> Tuple[np.ndarray, np.ndarray]:
        """Column ``index`` as floats, and the line number of each row.

        Raises DataFileError naming the line and column of a short row or a
        field that is not a number.
        """
        fast = self._parsed_column(index)
        if fast is not None:
            return fast
        values = np.empty(len(self.rows))
        lines = np.empty(len(self.rows), dtype=int)
        for row_index, (line, fields) in enumerate(self.rows):
            lines[row_index] = line
            if index >= len(fields):
                raise DataFileError(
                    f"{self.path}, line {line}: the row has {len(fields)} field"
                    f"{'s' if len(fields) != 1 else ''}, so column {self.label(index)} "
                    f"({role}) is missing; fill the row or remove it",
                    self.path, line, self.label(index))
            number = _parse_number(fields[index], decimal_comma=self.delimiter == ";")
            if number is None:
                raise DataFileError(
                    f"{self.path}, line {line}, column {self.label(index)} ({role}): "
                    f"{fields[index].strip()!r} is not a number; fix the value, or leave it "
                    f"empty to mark it missing",
                    self.path, line, self.label(index))
            values[row_index] = number
        return values, lines


def _numpy_columns(texts: List[str], delimiter: str, indices: Sequence[int]
                   ) -> Optional[np.ndarray]:
    """Columns ``indices`` of the data lines ``texts`` by numpy's parser (one column of
    the result per index), or None when any field is not a plain number (a missing-value
    token, a short row, a Fortran exponent): the caller then reads field by field and
    names the problem."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.loadtxt(texts, dtype=float, delimiter=None if delimiter == " "
                                else delimiter, comments="#" if delimiter == " " else None,
                                usecols=tuple(indices), ndmin=2)
    except (ValueError, IndexError, TypeError):
        return None
    return values if values.shape == (len(texts), len(indices)) else None


def _sniff_delimiter(line: str, sample: Sequence[str] = ()) -> str:
    """The delimiter of a file whose first non-comment line is ``line``.

    ``sample`` holds the data lines that follow it (a few): a delimiter
    that splits them into fields that are not all numbers, or into
    differing numbers of fields, while runs of whitespace split them into
    numbers, is not the file's (a tab ending each line of a
    space-separated file, a tab-separated header over space-separated
    data). Without such evidence the first line decides: a tab, else a
    semicolon, else a comma, else whitespace.
    """
    guess = _first_line_delimiter(line)
    if guess == " " or not sample:
        return guess
    if not _splits_into_numbers(sample, guess) and _splits_into_numbers(sample, " "):
        return " "
    return guess


def _first_line_delimiter(line: str) -> str:
    if "\t" in line:
        return "\t"
    # a semicolon before a comma: the comma is likely a decimal comma
    if ";" in line:
        return ";"
    if "," in line:
        return ","
    return " "


def _splits_into_numbers(lines: Sequence[str], delimiter: str) -> bool:
    """Whether ``delimiter`` splits every line into the same number of fields, all numbers
    or missing values."""
    widths = set()
    for line in lines:
        fields = _split(line, delimiter)
        if not fields or not all(_parse_number(item, delimiter == ";") is not None
                                 for item in fields):
            return False
        widths.add(len(fields))
    return len(widths) == 1


def _split(line: str, delimiter: str) -> List[str]:
    if delimiter == " ":
        return line.split("#", 1)[0].split()
    # csv handles quoted fields ("a, b") the way spreadsheets write them
    return [item.strip() for item in next(csv.reader([line], delimiter=delimiter))]


def read_table(path: Union[str, "os.PathLike[str]"], content: Optional[bytes] = None) -> Table:
    """Read the text table in ``path``: delimiter, header names and data rows.

    ``content``, when given, is the file's bytes (the standard input, say),
    and ``path`` only names it in messages.

    Raises DataFileError when the file cannot be read or holds no data rows.
    """
    path_text = os.fspath(path)
    try:
        if content is not None:
            raw = content
        else:
            with open(path_text, "rb") as handle:
                raw = handle.read()
    except FileNotFoundError:
        raise DataFileError(f"{path_text}: no such data file", path_text) from None
    except IsADirectoryError:
        raise DataFileError(f"{path_text}: is a directory, not a data file", path_text) from None
    except OSError as exc:
        raise DataFileError(f"{path_text}: cannot read: {exc.strerror or exc}", path_text) from None
    text = _decode(raw, path_text)

    lines = text.splitlines()
    comments: List[Tuple[int, str]] = []
    first: Optional[int] = None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append((number, stripped[1:]))
            continue
        first = number
        break
    if first is None:
        raise DataFileError(f"{path_text}: holds no data rows (only blank or comment lines)",
                            path_text)

    following: List[str] = []
    for line in lines[first + 1:]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            following.append(line)
            if len(following) == 5:
                break
    delimiter = _sniff_delimiter(lines[first], following)
    first_fields = _split(lines[first], delimiter)
    header_line: Optional[int] = None
    names: List[Optional[str]] = []
    start = first
    if first_fields and not any(_is_number(item, delimiter == ";") for item in first_fields):
        header_line = first + 1
        names = [item or None for item in first_fields]
        start = first + 1

    # the data lines: all but blank and comment lines (a million lines: comprehensions and
    # C-level maps, no per-line statements)
    block = lines[start:]
    texts = [line for line in block if line.strip() and line.lstrip()[0] != "#"]
    if len(texts) == len(block):
        numbers: Sequence[int] = range(start + 1, start + 1 + len(block))
    else:
        numbers = [start + 1 + offset for offset, line in enumerate(block)
                   if line.strip() and line.lstrip()[0] != "#"]
    if not texts:
        raise DataFileError(f"{path_text}: has a header (line {header_line}) but no data rows",
                            path_text, header_line)
    # quotes need the csv module's reading, field by field
    quoted = delimiter != " " and '"' in text
    if delimiter == " ":
        width = max(len(line.split("#", 1)[0].split()) for line in texts)
    elif not quoted:
        width = max(map(str.count, texts, itertools.repeat(delimiter))) + 1
    else:
        width = max(len(_split(line, delimiter)) for line in texts)
    from_comment = False
    if header_line is None and comments:
        # a comment right above the data naming every column is a header too (numpy.savetxt)
        last_number, last_text = comments[-1]
        candidates = _split(last_text, delimiter)
        if (last_number == first - _blank_lines_before(lines, first) - 1
                and len(candidates) == width
                and not any(_is_number(item, delimiter == ";") for item in candidates)):
            names = list(candidates)
            header_line = last_number + 1
            from_comment = True
    names = names + [None] * (width - len(names))
    return Table(path_text, delimiter, header_line, names, None, from_comment,
                 lines=(numbers, texts), quoted=quoted)


def _decode(raw: bytes, path: str) -> str:
    """The text of a data file: UTF-8 (with or without a byte-order mark), UTF-16 with its
    byte-order mark (as some Windows programs export), else Windows-1252 (Latin-1 with
    the typographic signs: a header holding 'µm' written by an older spreadsheet)."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = ""
    if encoding:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{path}: starts as {encoding.upper()} text but cannot be "
                                f"decoded at byte {exc.start}; re-save it as UTF-8",
                                path) from None
    if b"\x00" in raw[:4096]:
        raise DataFileError(f"{path}: not a text file (it holds NUL bytes); give a CSV, TSV or "
                            f"whitespace-separated text file", path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _blank_lines_before(lines: Sequence[str], index: int) -> int:
    count = 0
    while index - count - 1 >= 0 and not lines[index - count - 1].strip():
        count += 1
    return count


@dataclass
class FitData:
    """The x, y and optional sigma columns of a data file, ready to fit.

    ``lines`` holds the file line number of every kept row. ``dropped``
    counts rows removed for missing or infinite values (``nan_policy='omit'``)
    and ``dropped_lines`` lists their line numbers.
    """

    path: str
    x: np.ndarray
    y: np.ndarray
    sigma: Optional[np.ndarray]
    x_label: str
    y_label: str
    sigma_label: Optional[str]
    x_name: Optional[str]
    y_name: Optional[str]
    lines: np.ndarray
    dropped: int = 0
    dropped_lines: List[int] = field(default_factory=list)
    delimiter: str = "whitespace"
    header: Optional[List[Optional[str]]] = None
    #: things the reader decided that the user may want to know (printed by the CLI)
    notes: List[str] = field(default_factory=list)

    @property
    def ndata(self) -> int:
        """Number of rows kept."""
        return int(self.y.size)

    @property
    def weights(self) -> Optional[np.ndarray]:
        """``1/sigma`` (the weights a least-squares fit multiplies residuals by), or None."""
        return None if self.sigma is None else 1.0 / self.sigma

    def check_enough_points(self, free_names: Sequence[str]) -> None:
        """Raise DataFileError when there are fewer rows than free parameters ``free_names``."""
        if self.ndata < len(free_names):
            dropped = (f" after dropping {self.dropped} row{'s' if self.dropped != 1 else ''} "
                       f"with missing values" if self.dropped else "")
            raise DataFileError(
                f"{self.path}: {self.ndata} data row{'s' if self.ndata != 1 else ''}{dropped}, "
                f"but the model has {len(free_names)} free parameter"
                f"{'s' if len(free_names) != 1 else ''} ({', '.join(free_names)}); a fit needs at least "
                f"one row per free parameter: add data, or fix parameters with "
                f"-p NAME=VALUE:vary=no",
                self.path)


def read_data(path: Union[str, "os.PathLike[str]"], x: ColumnSpec = None, y: ColumnSpec = None,
              sigma: ColumnSpec = None, nan_policy: str = "omit",
              content: Optional[bytes] = None) -> FitData:
    """Read the x, y (and sigma) columns of a CSV, TSV or whitespace-separated file.

    Columns are header names or 1-based numbers (see the module docstring
    for defaults). ``nan_policy``: ``'omit'`` drops rows holding a missing or
    infinite value (counted in ``dropped``), ``'propagate'`` keeps them,
    ``'raise'`` makes the first one an error naming its line and column.
    Sigma values must be positive and finite where given. ``content``, when
    given, is the file's bytes (``path`` then only names it in messages).

    >>> data = read_data("misra1a.csv", x="x", y="y")     # doctest: +SKIP
    """
    if nan_policy not in NAN_POLICIES:
        raise DataFileError(f"nan_policy must be one of {', '.join(NAN_POLICIES)}, "
                            f"not {nan_policy!r}")
    table = read_table(path, content)
    x_index = table.resolve(x, "x") if x is not None else table.default_column("x", 0)
    if y is not None:
        y_index = table.resolve(y, "y")
    else:
        y_index = table.default_column("y", 1 if x_index != 1 else 0)
        if table.ncolumns < 2:
            raise DataFileError(f"{table.path}: has one column only; a fit needs an x and a y "
                                f"column", table.path)
    sigma_index = table.resolve(sigma, "sigma") if sigma is not None else None
    notes: List[str] = []
    if table.header_from_comment and ((x is None and x_index != 0)
                                      or (y is None and y_index != (1 if x_index != 1 else 0))):
        # a comment read as column names moved a default choice: it may be prose ('# y vs x')
        notes.append(f"the comment on line {table.header_line} is read as column names "
                     f"({' '.join(str(n) for n in table.names)}), so x is column "
                     f"{table.label(x_index)} and y column {table.label(y_index)}; if it is not "
                     f"a header, choose the columns by number (x=1, y=2)")

    chosen = [(x_index, "x"), (y_index, "y")]
    if sigma_index is not None:
        chosen.append((sigma_index, "sigma"))
    seen: Dict[int, str] = {}
    for index, role in chosen:
        if index in seen:
            raise DataFileError(f"{table.path}: column {table.label(index)} is chosen for both "
                                f"{seen[index]} and {role}; choose different columns",
                                table.path, None, table.label(index))
        seen[index] = role

    columns = {}
    lines = np.empty(0, dtype=int)
    table.prepare_columns([index for index, _ in chosen])
    for index, role in chosen:
        values, lines = table.numeric_column(index, role)
        if not np.any(np.isfinite(values)):
            raise DataFileError(
                f"{table.path}, column {table.label(index)} ({role}): no numeric values, every "
                f"row is missing or infinite; choose another column", table.path, None,
                table.label(index))
        columns[role] = values

    bad = np.zeros(lines.size, dtype=bool)
    first: Optional[Tuple[int, int, str]] = None  # the file's first bad row: (row, column, role)
    for index, role in chosen:
        not_finite = ~np.isfinite(columns[role])
        if not_finite.any():
            row = int(np.argmax(not_finite))
            if first is None or row < first[0]:
                first = (row, index, role)
        bad |= not_finite
    if nan_policy == "raise" and first is not None:
        row, index, role = first
        raise DataFileError(
            f"{table.path}, line {lines[row]}, column {table.label(index)} ({role}): value is "
            f"missing or not finite ({table.rows[row][1][index].strip()!r}); remove the row, or "
            f"drop such rows with nan_policy 'omit'", table.path,
            int(lines[row]), table.label(index))

    if "sigma" in columns:
        sigma_values = columns["sigma"]
        assert sigma_index is not None  # a "sigma" column is read only when one was chosen
        not_positive = np.isfinite(sigma_values) & (sigma_values <= 0)
        if not_positive.any():
            row = int(np.argmax(not_positive))
            raise DataFileError(
                f"{table.path}, line {lines[row]}, column {table.label(sigma_index)} (sigma): "
                f"uncertainty {sigma_values[row]:g} is not positive; every sigma must be > 0",
                table.path, int(lines[row]), table.label(sigma_index))

    dropped_lines: List[int] = []
    if nan_policy == "omit" and bad.any():
        dropped_lines = [int(v) for v in lines[bad]]
        keep = ~bad
        columns = {role: values[keep] for role, values in columns.items()}
        lines = lines[keep]

    return FitData(
        path=table.path,
        x=columns["x"],
        y=columns["y"],
        sigma=columns.get("sigma"),
        x_label=table.label(x_index),
        y_label=table.label(y_index),
        sigma_label=table.label(sigma_index) if sigma_index is not None else None,
        x_name=table.names[x_index],
        y_name=table.names[y_index],
        lines=lines,
        dropped=len(dropped_lines),
        dropped_lines=dropped_lines,
        delimiter=table.delimiter_name,
        header=table.names if table.header_line is not None else None,
        notes=notes,
    )
