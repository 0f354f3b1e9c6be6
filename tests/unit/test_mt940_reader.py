"""The MT940 reader (models/bank_formats/mt940.py, issue 12 §1): every shared sample either read whole with
its balances adding up, or refused with the reason; hostile input refused; a team account's own statement.
No database, no app."""
import io
import random
import zipfile
from datetime import date

import pytest

from models.bank_formats import MAX_FILE_BYTES, StatementRefused
from models.bank_formats.mt940 import read_mt940, read_mt940_unchecked
from tests.bankdata import BANKDATA, needs_samples



# file → (statements, lines in total, first statement's account IBAN, its opening, its closing in minor units)
#      or ("refused", a fragment of the message)
EXPECTED = {
    # prose between the statements is skipped, but 10a's :61: has a lower-case 'd' mark (and 2., 3., 4.
    # open with a debit of 1627,85 that cannot end at a credit of 1492,73)
    "abnamro__MT940_voorbeeldbestanden_abnamro.txt": ("refused", ":61:1205120514d1,01N946NONREF is niet te lezen"),
    # the sample's own balances do not add up (3236,28 - 321,44 is not 876,84)
    "abnamro__abnamro.sta": ("refused", ":28:19321/1 klopt niet: beginsaldo EUR 3236.28 + 8 regels EUR -321.44"),
    "abnamro__abnamro_structured.txt": ("refused", ":28:1301/1 klopt niet"),
    "abnamro__issue48": (1, 2, "", 112458, 117160),  # old account number 534334164: no IBAN
    "actual__data.sta": (1, 6, "FR7630006000011234567890189", 150000, 249671),
    "asn__0708271685_09022020_164516.940.txt": (31, 8, "", 44429, 37929),  # NL81ASNB9999999999 fails its checksum
    "bunq__sample": (1, 111, "NL10BUNQ2290325473", 3233, 566),
    "ing__MING01_Uitgaande_SECT_en_Incasso.txt": (1, 4, "", 1199, 1161),
    "ing__MING05_Enkelvoudige_uitgaande_VVR_transactie.txt": (1, 1, "", 1813, 1433),  # BHD, 3 decimals
    # the sample's :86:D000004C000002 trailer and its balances both disagree with its 7 lines
    "ing__ing.sta": ("refused", "het bestand meldt 4 afschrijvingen en 2 bijschrijvingen"),
    "ing__mt940_iban.txt": (1, 21, "", 43690, 24645),  # NL68INGB0000012345 fails its checksum
    "ing__test-ing.940": (1, 8, "", 66223, 56435),  # NL77INGB0574908765 fails its checksum
    # the 2016 line (96,84) is not in the sample's closing balance
    "knab__sample": ("refused", ":28C:20/3 klopt niet: beginsaldo EUR 1000.21 + 5 regels EUR -151.84"),
    "mollie__Voorbeeld_MT-940.mt940": (1, 21, "", 0, -135026),  # NL30ABNA000000000000 is 20 characters
    "moneyou__moneyou.txt": (1, 2, "", 4311971, 4313147),
    "rabobank__fix_rabo_twice_remi.txt": (1, 1, "", 1000050, 1100050),  # NL84RABO01212121212 is 19 characters
    "rabobank__rabobank.sta": ("refused", ":20:940A110615 :28:00000/00 klopt niet"),
    # a 2003 demo file: most days' balances are not explained by its lines
    "rabobank__sample": ("refused", ":20:940A030107 :28:00000/00 klopt niet: beginsaldo EUR 0.00 + 0 regels EUR 0.00"),
    "rabobank__test-rabo.swi": (4, 2, "NL34RABO0142623393", 443352, 483352),
    # the last message has no :62F:
    "sns__test-sns.940": ("refused", ":20:0000000000 :28C:363/1 heeft geen eindsaldo"),
    "triodos__sample": (2, 8, "", 100000, 85000),
    "triodos__triodos_iban.txt": (1, 3, "", 0, 94800),
    "triodos__triodos_iban_2.txt": (1, 4, "", 0, 772878),  # NL86TRIO07878788778 is 19 characters
    "vanlanschot__van_lanschot.txt": (3, 4, "", 505333, 777009),
}


def _sample(name: str) -> bytes:
    return (BANKDATA / "mt940" / name).read_bytes()


@needs_samples
def test_the_table_covers_every_sample():
    present = {path.name for path in (BANKDATA / "mt940").iterdir() if path.is_file()}
    assert present == set(EXPECTED)


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_is_read_whole_or_refused_with_the_reason(name):
    expected = EXPECTED[name]
    if expected[0] == "refused":
        with pytest.raises(StatementRefused) as refused:
            read_mt940(_sample(name), name)
        assert expected[1] in str(refused.value)
        assert name in str(refused.value)
        return
    statements = read_mt940(_sample(name), name)
    count, lines, iban, opening, closing = expected
    assert len(statements) == count
    assert sum(len(statement.lines) for statement in statements) == lines
    first = statements[0]
    assert (first.account_iban, first.opening_balance, first.closing_balance) == (iban, opening, closing)
    for statement in statements:
        assert statement.format == "mt940"
        assert statement.opening_balance + sum(line.amount for line in statement.lines) == statement.closing_balance
        assert statement.statement_id.startswith(":20:")
        for line in statement.lines:
            assert isinstance(line.amount, int) and isinstance(line.booking_date, date)


@needs_samples
def test_old_account_numbers_are_kept_in_the_statement_id():
    statement = read_mt940(_sample("abnamro__issue48"))[0]
    assert statement.account_iban == ""
    assert statement.statement_id == ":20:ABN AMRO BANK NV :28:35001/1 :25:534334164"


@needs_samples
def test_sns_continuation_lines_are_read_completely():
    data = _sample("sns__test-sns.940")
    # the whole file is refused (its third message has no closing balance); its first two read whole
    two = data[: data.index(b"{1:", data.index(b":28C:362/1"))]
    statements = read_mt940(two, "sns")
    assert [len(statement.lines) for statement in statements] == [4, 2]
    glas, jumbo, vitens, albert_heijn = statements[0].lines
    assert glas.amount == -71313 and glas.counterparty_iban == "NL49RABO0166416932"
    assert glas.counterparty_name == "gerrits glas en schilderwerk"
    assert "Factuur 17227/248/20" in glas.description
    assert jumbo.transaction_code == "card" and jumbo.merchant_category_code == "5411"  # 'M' / 'CC:5411' wrapped
    assert "VNKlantnr" in vitens.description  # a word wrapped over a full 65-character line
    assert albert_heijn.merchant_category_code == "5411"
    assert statements[1].lines[1].amount == 0
    assert statements[1].closing_balance == 225357
    with pytest.raises(StatementRefused, match="363/1 heeft geen eindsaldo"):
        read_mt940(data)


@needs_samples
def test_asn_continuation_lines_are_read_completely():
    statements = read_mt940(_sample("asn__0708271685_09022020_164516.940.txt"))
    assert len(statements) == 31
    assert [len(statement.lines) for statement in statements if statement.lines] == [1, 2, 1, 2, 2]
    assert statements[-1].closing_balance == 50123
    dividend = statements[28].lines[0]
    assert dividend.amount == 82872 and dividend.counterparty_name == "transfer solutions bv"
    assert "DIVIDEND 28/01/2020" in dividend.description


@needs_samples
def test_ing_28c_split_over_two_lines_and_fields_wrapped_mid_token():
    [statement] = read_mt940(_sample("ing__test-ing.940"))
    assert statement.statement_id.startswith(":20:P140220000000001 :28C:00000 ")
    assert len(statement.lines) == 8
    first = statement.lines[0]
    assert first.bank_reference == "00000000001005"  # '00000000001' + '005' on the next line
    assert first.entry_reference == "EV12341REP1231456T1234"
    assert first.counterparty_name == "ING BANK NV INZAKE WEB"
    assert first.transaction_code == "00100"
    assert statement.lines[3].transaction_code == "01016"  # /TRCD/010 + 16 + /
    assert statement.lines[5].description == "CONTRIBUTIE FEB 2014"


@needs_samples
def test_ing_card_payments():
    [statement] = read_mt940(_sample("ing__mt940_iban.txt"))
    cards = [line for line in statement.lines if line.transaction_code == "card"]
    assert [(line.amount, line.card_reference) for line in cards] == [(-2000, "008"), (-6299, "008")]
    assert "BERLIN" in cards[0].description


@needs_samples
def test_the_rabobank_sample_is_read_completely_but_refused():
    data = _sample("rabobank__sample")
    assert data.endswith(b"\x1a")
    statements = read_mt940_unchecked(data)
    assert len(statements) == 39
    assert sum(len(statement.lines) for statement in statements) == 39
    assert {statement.currency for statement in statements} == {"EUR", "USD", "JPY"}
    yen = [statement for statement in statements if statement.currency == "JPY"]
    assert yen[2].lines[0].amount == 1560395  # JPY has no decimals: '00000001560395.'
    with pytest.raises(StatementRefused, match="klopt niet"):
        read_mt940(data)


@needs_samples
def test_abn_card_lines_and_reversed_year_of_entry_dates():
    statements = read_mt940_unchecked(_sample("abnamro__abnamro.sta"))
    bea = statements[0].lines[1]
    assert (bea.transaction_code, bea.card_reference) == ("card", "999")
    assert (bea.value_date, bea.booking_date) == (date(2011, 5, 21), date(2011, 5, 23))
    assert statements[0].lines[6].amount == -10700  # '107,'
    [moneyou] = read_mt940(_sample("moneyou__moneyou.txt"))
    assert (moneyou.lines[0].value_date, moneyou.lines[0].booking_date) == (date(2019, 1, 1), date(2018, 12, 31))


# --- a team account's own statement, ING style ---------------------------------------------------------

TEAM = (
    "{1:F01INGBNL2AXXXX0000000000}{2:I940INGBNL2AXXXXN}{4:\r\n"
    ":20:P261201000000001\r\n"
    ":25:NL69INGB0123456789EUR\r\n"
    ":28C:00001\r\n"
    ":60F:C261130EUR0,00\r\n"
    ":61:2612011201C250,00NTRFEREF//26335000000001\r\n"
    "/TRCD/00100/\r\n"
    ":86:/EREF/TB-12-OPW3//CNTP/NL91ABNA0417164300/ABNANL2A/STICHTING FONDS\r\n"
    " AMSTERDAM///REMI/USTD//Aanvulling teamrekening TB-12-OPW3/\r\n"
    ":61:2612021202D40,00NTRFEREF//26336000000002\r\n"
    "/TRCD/00100/\r\n"
    ":86:/EREF/TB-12-45//CNTP/NL02ABNA0123456789/ABNANL2A/PREPAID KAART///REMI/USTD//Kaartlading TB-12-45/\r\n"
    ":61:2612031203D38,20NTRFNONREF//26337000000003\r\n"
    "/TRCD/02000/\r\n"
    ":86:/REMI/USTD//03-12-26 14:02 BETAALAUTOMAAT   APOTHEEK DE ROOS / AMS\r\n"
    "TERDAM 012 A1B2C3 56548252     ING BANK NV PASTRANSACTIES/\r\n"
    ":61:2612041204D50,00NTRFNONREF//26338000000004\r\n"
    "/TRCD/01000/\r\n"
    ":86:/REMI/USTD//GEA 04-12-26 10:15 ING AMSTERDAM CENTRUM PAS 012/\r\n"
    ":62F:C261204EUR121,80\r\n"
    ":64:C261204EUR121,80\r\n"
    ":86:/SUM/3/1/128,20/250,00/\r\n"
    "-}\r\n"
)


def test_a_team_statement_with_top_up_card_load_card_payment_and_cash():
    [statement] = read_mt940(TEAM.encode(), "team.940")
    assert (statement.account_iban, statement.currency) == ("NL69INGB0123456789", "EUR")
    assert (statement.opening_balance, statement.closing_balance) == (0, 12180)
    assert (statement.opening_date, statement.closing_date) == (date(2026, 11, 30), date(2026, 12, 4))
    top_up, load, pharmacy, cash = statement.lines
    assert (top_up.amount, top_up.entry_reference) == (25000, "TB-12-OPW3")
    assert top_up.counterparty_iban == "NL91ABNA0417164300"
    assert top_up.counterparty_name == "STICHTING FONDS AMSTERDAM"
    assert top_up.bank_reference == "26335000000001" and top_up.transaction_code == "00100"
    assert "TB-12-OPW3" in top_up.description
    assert (load.amount, load.entry_reference, load.counterparty_iban) == (-4000, "TB-12-45", "NL02ABNA0123456789")
    assert (pharmacy.amount, pharmacy.transaction_code, pharmacy.card_reference) == (-3820, "card", "012")
    assert "APOTHEEK DE ROOS / AMSTERDAM" in pharmacy.description
    assert pharmacy.booking_date == date(2026, 12, 3)
    assert (cash.amount, cash.transaction_code, cash.card_reference) == (-5000, "cash", "012")


def test_the_same_statement_from_windows_with_a_ctrl_z_in_cp1252():
    data = TEAM.replace("STICHTING FONDS", "STICHTING FONDS \u00e9\u00e9n").encode("cp1252") + b"\x1a"
    [statement] = read_mt940(data)
    assert statement.lines[0].counterparty_name == "STICHTING FONDS \u00e9\u00e9n AMSTERDAM"


def test_a_closing_balance_one_cent_off_is_refused():
    with pytest.raises(StatementRefused) as refused:
        read_mt940(TEAM.replace(":62F:C261204EUR121,80", ":62F:C261204EUR121,79").encode(), "team.940")
    message = str(refused.value)
    assert "team.940" in message and ":20:P261201000000001 :28C:00001" in message
    assert "klopt niet" in message and "eindsaldo is EUR 121.79" in message and "verschil EUR -0.01" in message


def test_a_declared_count_that_differs_is_refused():
    with pytest.raises(StatementRefused, match="meldt 2 afschrijvingen en 1 bijschrijvingen"):
        read_mt940(TEAM.replace("/SUM/3/1/", "/SUM/2/1/").encode())


def test_a_broken_61_is_refused():
    broken = TEAM.replace(":61:2612031203D38,20NTRFNONREF//26337000000003", ":61:26120X1203D38;20GARBAGE")
    with pytest.raises(StatementRefused, match=":61:26120X1203D38;20GARBAGE is niet te lezen"):
        read_mt940(broken.encode())
    with pytest.raises(StatementRefused, match=":61:2613011201C250,00.* is niet te lezen: datum '261301' bestaat niet"):
        read_mt940(TEAM.replace(":61:2612011201C250,00", ":61:2613011201C250,00").encode())  # month 13
    with pytest.raises(StatementRefused, match="meer dan 2 decimalen"):
        read_mt940(TEAM.replace("D38,20N", "D38,205N").encode())


def test_a_truncated_file_is_refused_wherever_it_is_cut():
    data = TEAM.encode()
    start = data.index(b":60F:")
    end = data.index(b"\r\n", data.index(b":62F:"))  # cut anywhere before the closing balance is whole
    for cut in range(start, end):
        with pytest.raises(StatementRefused):
            read_mt940(data[:cut])


def test_intermediate_balances_chain_over_messages():
    first = TEAM.replace(":62F:", ":62M:").replace(":64:C261204EUR121,80\r\n", "")
    second = (
        ":20:P261201000000001\r\n:25:NL69INGB0123456789EUR\r\n:28C:00001/2\r\n:60M:C261204EUR121,80\r\n"
        ":61:2612051205D1,80NTRFNONREF\r\n:86:KOSTEN\r\n:62F:C261205EUR120,00\r\n-}\r\n"
    )
    statements = read_mt940((first + second).encode())
    assert [statement.closing_balance for statement in statements] == [12180, 12000]
    with pytest.raises(StatementRefused, match="begint op EUR 121.00 waar dat eindigde op EUR 121.80"):
        read_mt940((first + second.replace("EUR121,80", "EUR121,00").replace("EUR120,00", "EUR119,20")).encode())


def test_reversal_marks():
    reversal = (
        ":20:R1\r\n:25:NL69INGB0123456789\r\n:60F:C261201EUR10,00\r\n"
        ":61:261202RD5,00NTRFNONREF\r\n:61:261202RC2,50NTRFNONREF\r\n:62F:C261202EUR12,50\r\n"
    )
    [statement] = read_mt940(reversal.encode())
    assert [line.amount for line in statement.lines] == [500, -250]  # RD: a debit undone; RC: a credit undone


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b":20:X\r\n" + b"A" * (6 * 1024 * 1024), "meer dan de"),
        (b"", "geen MT940-bestand"),
        (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>', "lijkt op XML"),
        (bytes(random.Random(12).randbytes(4096)), "geen MT940-bestand"),
        (bytes(range(1, 256)) * 16, "geen MT940-bestand"),
        (b"Dear customer,\r\nyour statement is attached.\r\n", "geen MT940-bestand"),
        (b":20:X\r\n:61:2612011201C1,00NTRF\r\n", "geen MT940-bestand"),
        (b":61:2612011201C1,00NTRF\r\n:20:X\r\n:60F:C261130EUR0,00\r\n:62F:C261130EUR0,00\r\n", "buiten een afschrift"),
        (b":20:X\r\n:60F:C261130EUR0,00\r\n:62F:C261130EUR0,00\r\n", "geen rekening (:25:)"),
        (b":20:X\r\n:25:1\r\n:60F:C261130EUR0,00\r\n:62F:C261130USD0,00\r\n", "eindigt in USD"),
    ],
    ids=["6MB", "empty", "xml", "random", "binary", "prose", "no-balance", "stray-tag", "no-account", "currencies"],
)
def test_hostile_input_is_refused(data, fragment):
    assert len(data) <= MAX_FILE_BYTES or fragment == "meer dan de"
    with pytest.raises(StatementRefused, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_mt940(data, "upload")


def test_a_zip_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("statement.940", TEAM)
    with pytest.raises(StatementRefused, match="zip"):
        read_mt940(buffer.getvalue())
