"""One entry for every statement file: CAMT or MT940 is told by the content, never by the file name, and what
is neither is refused before any reader runs."""
import pytest

from models.bank_formats import MAX_FILE_BYTES, StatementRefused, read_statement_file
from tests.unit.test_camt_reader import ing_statement
from tests.unit.test_mt940_reader import TEAM


@pytest.mark.parametrize("name", ["afschrift.940", "afschrift.xml", ""])
def test_the_format_is_told_by_the_content_not_the_name(name):
    camt, = read_statement_file(b"\xef\xbb\xbf" + ing_statement(), name)  # a byte order mark, as Windows writes
    assert camt.format.startswith("camt.053.") and camt.lines
    mt940, = read_statement_file(TEAM.encode("utf-8"), name)
    assert mt940.format == "mt940" and mt940.lines


@pytest.mark.parametrize("data, fragment", [
    (b"PK\x03\x04" + b"\0" * 100, "zip"),
    (b":20:x\n" + b"x" * MAX_FILE_BYTES, "larger than"),
    (b"Geachte heer, hierbij het afschrift.", ""),
])
def test_what_is_no_statement_is_refused(data, fragment):
    with pytest.raises(StatementRefused) as refused:
        read_statement_file(data, "x")
    assert fragment in str(refused.value)
