"""Tests for lmfit_host.datafile: reading x, y, sigma columns from text files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmfit_host.datafile import DataFileError, Table, read_data, read_table


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_header_reads_named_columns(tmp_path):
    path = write(tmp_path, "d.csv", "t,counts,err\n0,10,1\n1,8,1\n2,6.5,0.5\n")
    data = read_data(path, x="t", y="counts", sigma="err")
    assert np.allclose(data.x, [0, 1, 2])
    assert np.allclose(data.y, [10, 8, 6.5])
    assert np.allclose(data.sigma, [1, 1, 0.5])
    assert data.delimiter == "comma"
    assert data.x_name == "t" and data.y_name == "counts"


def test_columns_can_be_chosen_by_1_based_number(tmp_path):
    path = write(tmp_path, "d.csv", "a,b,c\n1,2,3\n4,5,6\n")
    data = read_data(path, x="3", y=1)
    assert np.allclose(data.x, [3, 6])
    assert np.allclose(data.y, [1, 4])


def test_first_line_with_a_number_is_data_not_header(tmp_path):
    path = write(tmp_path, "e.csv", "1,x\n10,20\n")
    with pytest.raises(DataFileError, match=r"line 1, column 2 \(y\): 'x' is not a number"):
        read_data(path)


def test_defaults_are_columns_named_x_and_y(tmp_path):
    path = write(tmp_path, "d.csv", "y,x\n1,10\n2,20\n")
    data = read_data(path)
    assert np.allclose(data.x, [10, 20])
    assert np.allclose(data.y, [1, 2])


def test_defaults_without_header_are_columns_1_and_2(tmp_path):
    path = write(tmp_path, "d.txt", "0.0  1.5  9\n1.0  2.5  9\n")
    data = read_data(path)
    assert np.allclose(data.x, [0, 1])
    assert np.allclose(data.y, [1.5, 2.5])
    assert data.sigma is None
    assert data.header is None
    assert data.delimiter == "whitespace"


def test_tsv_is_detected(tmp_path):
    path = write(tmp_path, "d.tsv", "x\ty\n1\t2\n3\t4\n")
    data = read_data(path)
    assert data.delimiter == "tab"
    assert np.allclose(data.y, [2, 4])


def test_semicolon_separated_is_detected(tmp_path):
    path = write(tmp_path, "d.csv", "x;y\n1;2\n3;4\n")
    assert read_data(path).delimiter == "semicolon"


def test_semicolon_files_may_use_decimal_commas(tmp_path):
    data = read_data(write(tmp_path, "d.csv", "x;y\n1,5;2,25\n3;4.5\n"))
    assert np.allclose(data.x, [1.5, 3]) and np.allclose(data.y, [2.25, 4.5])
    headerless = read_data(write(tmp_path, "e.csv", "1,5;2,25\n3;4\n"))
    assert headerless.header is None and np.allclose(headerless.x, [1.5, 3])


def test_comment_lines_and_inline_comments_are_skipped(tmp_path):
    text = "# measured 2024\n\n1 2  # first\n# skipped\n3 4\n"
    data = read_data(write(tmp_path, "d.dat", text))
    assert np.allclose(data.x, [1, 3])
    assert list(data.lines) == [3, 5]


def test_savetxt_comment_header_names_columns(tmp_path):
    path = tmp_path / "d.txt"
    np.savetxt(path, np.column_stack([[1.0, 2.0], [3.0, 4.0], [0.1, 0.2]]), header="t y dy")
    data = read_data(path, x="t", sigma="dy")
    assert np.allclose(data.x, [1, 2])
    assert np.allclose(data.sigma, [0.1, 0.2])


def test_fortran_exponents_are_numbers(tmp_path):
    data = read_data(write(tmp_path, "d.txt", "1.0D+01 2.5d-1\n2 3\n"))
    assert np.allclose(data.x, [10, 2])
    assert np.allclose(data.y, [0.25, 3])


def test_quoted_csv_fields_are_read(tmp_path):
    data = read_data(write(tmp_path, "d.csv", '"x","y"\n"1","2"\n"3","4"\n'))
    assert np.allclose(data.y, [2, 4])


def test_non_numeric_field_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "bad.csv", "x,y\n1,2\n2,abc\n")
    with pytest.raises(DataFileError) as info:
        read_data(path)
    message = str(info.value)
    assert "bad.csv" in message and "line 3" in message and "column 2 ('y')" in message
    assert "'abc'" in message
    assert info.value.line == 3


def test_missing_column_name_lists_the_columns(tmp_path):
    path = write(tmp_path, "d.csv", "t,v\n1,2\n")
    with pytest.raises(DataFileError, match=r"no column named 'volts'.*1 \('t'\), 2 \('v'\)"):
        read_data(path, y="volts")


def test_column_number_beyond_the_file_is_an_error(tmp_path):
    path = write(tmp_path, "d.csv", "1,2\n3,4\n")
    with pytest.raises(DataFileError, match="column 5 requested for sigma.*2 columns"):
        read_data(path, sigma=5)


def test_short_row_names_its_line(tmp_path):
    path = write(tmp_path, "d.txt", "1 2 0.1\n2 3\n")
    with pytest.raises(DataFileError, match=r"line 2: the row has 2 fields.*column 3 \(sigma\)"):
        read_data(path, sigma=3)


def test_rows_with_missing_values_are_dropped_and_counted(tmp_path):
    path = write(tmp_path, "d.csv", "x,y\n1,2\n2,\n3,NA\n4,nan\n5,6\n")
    data = read_data(path)
    assert np.allclose(data.x, [1, 5])
    assert data.dropped == 3
    assert data.dropped_lines == [3, 4, 5]


def test_nan_policy_propagate_keeps_rows(tmp_path):
    path = write(tmp_path, "d.csv", "x,y\n1,2\n2,\n3,4\n")
    data = read_data(path, nan_policy="propagate")
    assert data.ndata == 3 and np.isnan(data.y[1]) and data.dropped == 0


def test_nan_policy_raise_names_line_and_column(tmp_path):
    path = write(tmp_path, "d.csv", "x,y\n1,2\n2,inf\n")
    with pytest.raises(DataFileError, match=r"d.csv, line 3, column 2 \('y'\) \(y\): .*not finite"):
        read_data(path, nan_policy="raise")


def test_all_nan_column_is_an_error(tmp_path):
    path = write(tmp_path, "d.csv", "x,y,s\n1,2,\n2,3,NA\n")
    with pytest.raises(DataFileError, match=r"column 3 \('s'\) \(sigma\): no numeric values"):
        read_data(path, sigma="s")


def test_non_positive_sigma_is_an_error(tmp_path):
    path = write(tmp_path, "d.csv", "x,y,s\n1,2,1\n2,3,0\n")
    with pytest.raises(DataFileError, match=r"line 3.*sigma.*not positive"):
        read_data(path, sigma="s")


def test_same_column_twice_is_an_error(tmp_path):
    path = write(tmp_path, "d.csv", "x,y\n1,2\n")
    with pytest.raises(DataFileError, match="both x and y"):
        read_data(path, y="x")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataFileError, match="no such data file"):
        read_data(tmp_path / "nope.csv")


def test_empty_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataFileError, match="no data rows"):
        read_data(write(tmp_path, "d.csv", "# nothing\n\n"))


def test_header_only_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataFileError, match="header .* but no data rows"):
        read_data(write(tmp_path, "d.csv", "x,y\n"))


def test_fewer_points_than_free_parameters_is_an_error(tmp_path):
    data = read_data(write(tmp_path, "d.csv", "x,y\n1,2\n2,3\n3,\n"))
    with pytest.raises(DataFileError, match=r"2 data rows after dropping 1 row.*3 free parameters "
                                            r"\(a, b, c\)"):
        data.check_enough_points(["a", "b", "c"])


def test_weights_are_inverse_sigma(tmp_path):
    data = read_data(write(tmp_path, "d.csv", "1,2,0.5\n2,3,0.25\n"), sigma=3)
    assert np.allclose(data.weights, [2, 4])


def test_read_table_reports_header_line(tmp_path):
    table = read_table(write(tmp_path, "d.csv", "# c\nx,y\n1,2\n"))
    assert table.header_line == 2 and table.names == ["x", "y"]
    assert table.rows == [(3, ["1", "2"])]


def test_a_tab_ending_each_line_of_a_space_separated_file_is_whitespace(tmp_path):
    path = write(tmp_path, "d.txt", "1.0 3.0\t\n2.0 5.0\t\n3.0 7.0\t\n")
    data = read_data(path)
    assert data.x.tolist() == [1.0, 2.0, 3.0] and data.y.tolist() == [3.0, 5.0, 7.0]
    assert data.delimiter == "whitespace"


def test_a_tab_separated_header_over_space_separated_data(tmp_path):
    path = write(tmp_path, "d.txt", "t\tsignal\n1.0 3.0\n2.0 5.0\n")
    data = read_data(path, x="t", y="signal")
    assert data.y.tolist() == [3.0, 5.0]


def test_a_comment_read_as_column_names_that_moves_x_is_noted(tmp_path):
    path = write(tmp_path, "d.txt", "# y vs x\n3.0 1.0 0.1\n5.0 2.0 0.1\n7.0 3.0 0.1\n")
    data = read_data(path)
    assert data.x.tolist() == [0.1, 0.1, 0.1]  # the rule, as documented
    assert len(data.notes) == 1 and "comment on line 1 is read as column names" in data.notes[0]
    assert read_data(path, x=2, y=1).notes == []
    # a savetxt header in the usual order moves nothing: no note
    plain = write(tmp_path, "e.txt", "# x y dy\n1.0 3.0 0.1\n2.0 5.0 0.1\n")
    assert read_data(plain).notes == []


def test_windows_1252_and_utf16_files_are_read(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("x,y (µm)\n1,7\n2,9\n".encode("cp1252"))
    assert read_data(latin).y_name == "y (µm)"
    wide = tmp_path / "wide.csv"
    wide.write_bytes("x,y\r\n1,7\r\n2,9\r\n".encode("utf-16"))
    assert read_data(wide).y.tolist() == [7.0, 9.0]


def test_a_binary_file_is_not_a_text_file(tmp_path):
    path = tmp_path / "d.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(DataFileError, match="not a text file"):
        read_data(path)


def test_nan_policy_raise_names_the_files_first_bad_row(tmp_path):
    path = write(tmp_path, "d.csv", "x,y\n1,2\n2,\n,4\n")
    with pytest.raises(DataFileError, match=r"line 3, column 2 \('y'\)"):
        read_data(path, nan_policy="raise")


@pytest.mark.parametrize("text", [
    "x, y\n1, 2\n 3 ,4\n",
    "x,y\n1,nan\n2,inf\n3,5\n",
    "x,y\n1,\n2,3\n",
    "# x y\n1 2 # c\n3 4\n\n5 6\n",
    "x\ty\n1\t2\n3\t4\n",
    "1.0D+00 2\n3 4\n",
    "1,2,\n3,4,\n",
    "1,2,3\n4,5\n",
    "+1,+2e3\n-3,.5\n",
    "x,y\n1,NA\n2,3\n",
])
def test_numpys_parser_and_the_field_by_field_reading_agree(tmp_path, monkeypatch, text):
    # clean numeric columns go through numpy's parser in one pass (a million rows in about a
    # second); anything else is read field by field, which names problems: same results
    path = write(tmp_path, "d.txt", text)

    def read():
        try:
            data = read_data(path, nan_policy="propagate")
        except DataFileError as exc:
            return str(exc)
        return data.x.tolist(), data.y.tolist(), data.lines.tolist()

    fast = read()
    monkeypatch.setattr(Table, "_parsable", lambda self: False)
    assert repr(read()) == repr(fast)


def test_a_clean_file_is_parsed_by_numpy_and_a_quoted_one_field_by_field(tmp_path):
    clean = read_table(write(tmp_path, "a.csv", "x,y\n1,2\n3,4\n"))
    clean.prepare_columns([0, 1])
    assert clean._parsed_column(1)[0].tolist() == [2.0, 4.0]
    assert clean._rows is None  # never split into fields
    quoted = read_table(write(tmp_path, "b.csv", 'x,y\n"1",2\n3,4\n'))
    assert quoted._parsed_column(0) is None


def test_utf32_files_are_read_and_bytes_can_be_given_directly(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_bytes("x,y\n1,7\n2,9\n".encode("utf-32"))
    assert read_data(wide).y.tolist() == [7.0, 9.0]
    # bytes from elsewhere (the standard input, say): the path only names them
    data = read_data("<stdin>", content=b"x,y\n1,2\n3,4\n")
    assert data.path == "<stdin>" and data.x.tolist() == [1.0, 3.0]
    # a file named '-' is a file
    (tmp_path / "-").write_text("x,y\n5,6\n7,8\n")
    assert read_data(tmp_path / "-").x.tolist() == [5.0, 7.0]


def test_an_irregular_column_is_parsed_by_numpy_once_then_field_by_field(tmp_path):
    table = read_table(write(tmp_path, "d.csv", "x,y\n1,2\n2,\n3,4\n"))
    table.prepare_columns([0, 1])
    assert table._parsed_column(0) is None  # not tried again
    assert repr(table).startswith("Table(") and "rows=3" in repr(table)
