"""The CAMT reader (models/bank_formats/camt.py), issue 12 §1: every sample statement in the shared bank
data either reads completely with its balances adding up, or is refused with the reason written down here;
hostile files are refused before anything is expanded; our own ING-style statement and card notification
read as the matching (§2) will need them. No database, no app."""
import io
import zipfile
from datetime import date

import pytest

from models.bank_formats import MAX_FILE_BYTES, StatementRefused
from models.bank_formats.camt import parse_amount, read_camt
from tests.bankdata import BANKDATA, needs_samples



# file -> ("ok", format, account IBAN, statements, lines of the first, opening cents, closing cents of the first)
#      or ("refused", a fragment of the message)
EXPECTED = {
    # VR-Bank mock: 24.16 + 0.60 + 0.50 - 89.85 + 1.20 - 80.00 + 3.45 = -139.94, not the closing 27.61
    "camt053/actual__camt.053.xml": ("refused", "de saldi kloppen niet: beginsaldo EUR 24.16 + 6 regels"),
    # EUR 8.850 is read as 8.85 (trailing zero), but 18.150 + 8.850 is 27.00, not the closing 27.050
    "camt053/genkgo__camt053.v2.five.decimals.xml": ("refused", "maar het eindsaldo is EUR 27.05"),
    "camt053/genkgo__camt053.v2.multi.statement.xml": (
        "ok", "camt.053.001.02", "NL26VAYB8060476890", 2, 1, 1815, 2700,
    ),
    # synthetic: opening in EUR, closing in SEK (and the IBAN only under Othr, so no IBAN)
    "camt053/genkgo__camt053.v4.xml": ("refused", "eindsaldo: bedrag in SEK, maar de rekening is in EUR"),
    "camt053/genkgo__camt053.v8.xml": ("refused", "eindsaldo: bedrag in SEK, maar de rekening is in EUR"),
    # not schema-valid: balances without CdtDbtInd (and entries without Sts/BookgDt)
    "camt053/lt-subite__2024-04-11.xml": ("refused", "beginsaldo: geen teken voor bij of af (CdtDbtInd)"),
    # OCA test file: 15568.27 - 754.25 - 664.05 + 1405.31 = 15555.28, not the closing 15121.12
    "camt053/oca-nl__test-camt053": ("refused", "afschrift 1234Test/1: de saldi kloppen niet"),
    "camt053/postfinance__test-camt053-txdtls": (
        "ok", "camt.053.001.04", "CH1111000000123456789", 1, 1, 7596015, 7944315,
    ),
    # 132 statements of 2 accounts, 9 entries in all; the first day has none (TxsSummry says 0)
    "camt053/rabobank__CAMT053.xml": ("ok", "camt.053.001.02", "NL17RABO0310029597", 132, 0, 2148944, 2148944),
    "camt053/sns__example-camt053-a.xml": ("ok", "camt.053.001.02", "NL14SNSB0012345678", 2, 7, 20369, 66169),
    # camt.054: no balances; the v2 account has its IBAN only under Othr
    "camt054/genkgo__camt054.v2.xml": ("ok", "camt.054.001.02", "", 1, 1, None, None),
    "camt054/genkgo__camt054.v8.xml": ("ok", "camt.054.001.08", "CH2801234000123456789", 1, 1, None, None),
    # its one entry has status INFO: skipped, so a notification without lines
    "camt054/lt-subite__2024-03-18.xml": ("ok", "camt.054.001.10", "LT809872649478701594", 1, 0, None, None),
    "camt054/oca-nl__test-camt054": ("ok", "camt.054.001.04", "NL77ABNA0574908765", 1, 1, None, None),
}


@needs_samples
def test_the_table_names_every_sample():
    present = {f"{path.parent.name}/{path.name}" for path in BANKDATA.glob("camt05[34]/*") if path.is_file()}
    assert present == set(EXPECTED)


@needs_samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_reads_completely_or_is_refused_with_its_reason(name):
    data = (BANKDATA / name).read_bytes()
    expected = EXPECTED[name]
    if expected[0] == "refused":
        with pytest.raises(StatementRefused) as refused:
            read_camt(data, file_name=name)
        assert expected[1] in str(refused.value)
        assert name in str(refused.value)
        return
    _, format_name, iban, count, first_lines, opening, closing = expected
    statements = read_camt(data, file_name=name)
    assert len(statements) == count
    first = statements[0]
    assert (first.format, first.account_iban, len(first.lines)) == (format_name, iban, first_lines)
    assert (first.opening_balance, first.closing_balance) == (opening, closing)
    for statement in statements:
        assert statement.format == format_name
        if format_name.startswith("camt.053"):
            assert statement.opening_balance + sum(line.amount for line in statement.lines) == (
                statement.closing_balance
            )
        else:
            assert statement.opening_balance is None and statement.closing_balance is None
        for line in statement.lines:
            assert isinstance(line.amount, int) and isinstance(line.booking_date, date)


@needs_samples
def test_details_of_the_samples():
    rabobank = read_camt((BANKDATA / "camt053/rabobank__CAMT053.xml").read_bytes())
    assert sum(len(statement.lines) for statement in rabobank) == 9
    assert {statement.account_iban for statement in rabobank} == {"NL17RABO0310029597", "NL59RABO3181240869"}
    assert all(line.transaction_code.isdigit() for s in rabobank for line in s.lines)  # Prtry codes only

    sns = read_camt((BANKDATA / "camt053/sns__example-camt053-a.xml").read_bytes())
    fee = sns[0].lines[1]
    assert (fee.amount, fee.transaction_code) == (-795, "ACMT/MDOP/CHRG")  # Domn preferred over Prtry
    savings = sns[0].lines[2]
    assert (savings.amount, savings.counterparty_name, savings.counterparty_iban) == (
        50000, "GreatExample BV", "NL78SNSB0022446688",  # a credit: the Dbtr is the counterparty
    )

    notification = read_camt((BANKDATA / "camt054/oca-nl__test-camt054").read_bytes())[0]
    line = notification.lines[0]
    assert (line.amount, line.bank_reference, line.entry_reference) == (500, "98888208N8", "ENDTOENDID-01")
    assert (line.counterparty_name, line.counterparty_iban) == ("Test Customer", "NL46ABNA0499998748")
    assert line.description == "000000000000000000000000003"  # Strd/CdtrRefInf/Ref

    v8 = read_camt((BANKDATA / "camt054/genkgo__camt054.v8.xml").read_bytes())[0]
    assert v8.lines[0].booking_date == date(2007, 10, 18)  # BookgDt/DtTm


# -- our own statements ---------------------------------------------------------------------------------

TEAM_IBAN = "NL20INGB0001234567"
CARD_IBAN = "NL69INGB0123456789"


def _entry(amount: str, sign: str, reference: str, text: str, party: str, iban: str, *, status="BOOK",
           booked="2026-03-02") -> str:
    role, account = ("Cdtr", "CdtrAcct") if sign == "DBIT" else ("Dbtr", "DbtrAcct")
    return f"""
      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd><Sts>{status}</Sts>
        <BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>
        <AcctSvcrRef>{reference}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{"ICDT" if sign == "DBIT" else "RCDT"}</Cd>
          <SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn><Prtry><Cd>00100</Cd><Issr>ING</Issr></Prtry></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{text}</EndToEndId></Refs>
          <RltdPties><{role}><Nm>{party}</Nm></{role}><{account}><Id><IBAN>{iban}</IBAN></Id></{account}></RltdPties>
          <RmtInf><Ustrd>{text}</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""


def ing_statement(*, closing="1055.00", count="3", entries=None) -> bytes:
    """An ING-style camt.053.001.02 for a team account: two top-ups of batch 3 and a card load."""
    if entries is None:
        entries = (
            _entry("500.00", "CRDT", "ING-0001", "TB-12-OPW3", "Gemeente Voorbeeld", "NL86INGB0002445588")
            + _entry("600.00", "CRDT", "ING-0002", "TB-12-OPW3", "Gemeente Voorbeeld", "NL86INGB0002445588")
            + _entry("45.00", "DBIT", "ING-0003", "TB-12-45", "Kaartrekening team 12", CARD_IBAN)
            + _entry("9.99", "DBIT", "ING-0004", "pending", "Someone", "NL02ABNA0123456789", status="PDNG")
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>ING-20260302-1</MsgId><CreDtTm>2026-03-02T22:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>2026-03-02-NL20INGB0001234567</Id>
      <CreDtTm>2026-03-02T22:00:00</CreDtTm>
      <Acct><Id><IBAN>{TEAM_IBAN}</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BIC>INGBNL2A</BIC></FinInstnId></Svcr></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-03-01</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-03-02</Dt></Dt></Bal>
      <TxsSummry><TtlNtries><NbOfNtries>{count}</NbOfNtries></TtlNtries></TxsSummry>
      {entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>""".encode()


def test_an_ing_statement_for_a_team_account():
    [statement] = read_camt(ing_statement(), "ing.xml")
    assert (statement.format, statement.account_iban, statement.currency) == ("camt.053.001.02", TEAM_IBAN, "EUR")
    assert (statement.opening_balance, statement.closing_balance) == (0, 105_500)
    assert (statement.opening_date, statement.closing_date) == (date(2026, 3, 1), date(2026, 3, 2))
    assert [line.amount for line in statement.lines] == [50_000, 60_000, -4_500]  # the PDNG entry is skipped
    top_up, _, load = statement.lines
    assert (top_up.description, top_up.entry_reference, top_up.bank_reference) == ("TB-12-OPW3", "TB-12-OPW3", "ING-0001")
    assert (top_up.counterparty_name, top_up.counterparty_iban) == ("Gemeente Voorbeeld", "NL86INGB0002445588")
    assert (load.description, load.counterparty_iban, load.transaction_code) == ("TB-12-45", CARD_IBAN, "PMNT/ICDT/ESCT")
    assert load.booking_date == load.value_date == date(2026, 3, 2)


def test_a_closing_balance_off_by_one_cent_refuses_the_file_naming_the_statement():
    with pytest.raises(StatementRefused) as refused:
        read_camt(ing_statement(closing="1055.01"), "ing.xml")
    message = str(refused.value)
    assert "2026-03-02-NL20INGB0001234567" in message
    assert "EUR 1055.00" in message and "EUR 1055.01" in message


def test_a_count_mismatch_refuses_the_file():
    with pytest.raises(StatementRefused, match="meldt 4 regels .* maar er zijn 3 geboekte regels gelezen"):
        read_camt(ing_statement(count="4"))


def test_a_net_total_mismatch_refuses_the_file():
    data = ing_statement().replace(
        b"<NbOfNtries>3</NbOfNtries>",
        b"<NbOfNtries>3</NbOfNtries><Sum>1145.00</Sum><TtlNetNtryAmt>1055.01</TtlNetNtryAmt><CdtDbtInd>CRDT</CdtDbtInd>",
    )
    with pytest.raises(StatementRefused, match="nettototaal van EUR 1055.01"):
        read_camt(data)
    assert read_camt(data.replace(b"1055.01</TtlNetNtryAmt>", b"1055.00</TtlNetNtryAmt>"))[0].closing_balance == 105_500


def test_amounts_are_exact_decimals():
    entries = (
        _entry("0.10", "CRDT", "A", "a", "x", "NL02ABNA0123456789")
        + _entry("0.20", "CRDT", "B", "b", "x", "NL02ABNA0123456789")
    )
    [statement] = read_camt(ing_statement(closing="0.30", count="2", entries=entries))
    assert sum(line.amount for line in statement.lines) == statement.closing_balance == 30
    assert parse_amount("0.30", "EUR", "x") == 30
    assert parse_amount(".98", "EUR", "x") == 98
    assert parse_amount("8.850", "EUR", "x") == 885
    assert parse_amount("2700", "JPY", "x") == 2700
    assert parse_amount("1.234", "BHD", "x") == 1234
    with pytest.raises(StatementRefused, match="meer decimalen dan EUR toestaat"):
        parse_amount("8.855", "EUR", "x")
    for text in ("", "1,00", "-1.00", "1e3", "NaN", "0x10"):
        with pytest.raises(StatementRefused):
            parse_amount(text, "EUR", "x")


def test_an_entry_with_more_decimals_than_eur_is_refused():
    entries = _entry("0.105", "CRDT", "A", "a", "x", "NL02ABNA0123456789")
    with pytest.raises(StatementRefused, match="meer decimalen dan EUR toestaat"):
        read_camt(ing_statement(closing="0.11", count="1", entries=entries))


CARD_NOTIFICATION = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>N-1</MsgId><CreDtTm>2026-03-03T20:00:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N-1-1</Id>
      <Acct><Id><IBAN>NL69 INGB 0123 4567 89</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <TxsSummry><TtlNtries><NbOfNtries>1</NbOfNtries></TtlNtries></TxsSummry>
      <Ntry>
        <Amt Ccy="EUR">38.20</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><DtTm>2026-03-03T14:12:00+01:00</DtTm></BookgDt><ValDt><Dt>2026-03-03</Dt></ValDt>
        <AcctSvcrRef>CARD-778</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>CCRD</Cd><SubFmlyCd>POSD</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <RltdPties><Cdtr><Pty><Nm>Apotheek De Roos</Nm></Pty></Cdtr></RltdPties>
          <RmtInf><Ustrd>Apotheek De Roos Utrecht</Ustrd></RmtInf>
          <CardTx>
            <Card><PlainCardData><MskdPAN>5412 75** **** 1234</MskdPAN></PlainCardData></Card>
            <Tx><Indv><MrchntCtgyCd>5912</MrchntCtgyCd></Indv></Tx>
          </CardTx>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>INFO</Cd></Sts>
        <BookgDt><Dt>2026-03-03</Dt></BookgDt>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>"""


def test_a_camt054_card_payment_with_a_merchant_category_code():
    [notification] = read_camt(CARD_NOTIFICATION)
    assert (notification.format, notification.account_iban) == ("camt.054.001.08", CARD_IBAN)
    assert notification.opening_balance is None and notification.closing_balance is None
    [line] = notification.lines  # the INFO entry is skipped
    assert (line.amount, line.booking_date, line.counterparty_name) == (-3_820, date(2026, 3, 3), "Apotheek De Roos")
    assert (line.merchant_category_code, line.card_reference, line.transaction_code) == ("5912", "1234", "PMNT/CCRD/POSD")
    with pytest.raises(StatementRefused, match="meldt 2 regels"):
        read_camt(CARD_NOTIFICATION.replace(b"<NbOfNtries>1<", b"<NbOfNtries>2<"))


# -- hostile and broken files ---------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&lol3;</BkToCstmrStmt></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!doctype Document [<!entity xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&xxe;</BkToCstmrStmt></Document>"""


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("statement.xml", ing_statement())
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, fragment",
    [
        (BILLION_LAUGHS, "DOCTYPE- of ENTITY-declaratie"),
        (EXTERNAL_ENTITY, "DOCTYPE- of ENTITY-declaratie"),
        (b'<?xml version="1.0"?><!ENTITY x "y"><Document/>', "DOCTYPE- of ENTITY-declaratie"),
        (EXTERNAL_ENTITY.decode().encode("utf-16"), "NUL-bytes"),
        (b'<?xml version="1.0" encoding="UTF-7"?><Document/>', "wordt niet ondersteund"),
        (ing_statement() + b" " * (6 * 1024 * 1024), "bestand te groot"),
        (_zip(), "zip-bestand"),
        (ing_statement()[:-30], "onleesbare XML"),
        (b"", "onleesbare XML"),
        (b"<Document><Ntry></Document>", "onleesbare XML"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "geen camt.053- of camt.054-afschrift"),
        (b"<Document/>", "geen camt.053- of camt.054-afschrift"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>', "zonder element BkToCstmrStmt"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>',
         "zonder één element Stmt"),
    ],
)
def test_hostile_and_broken_files_are_refused(data, fragment):
    with pytest.raises(StatementRefused) as refused:
        read_camt(data, file_name="upload.xml")
    assert fragment in str(refused.value)
    assert str(refused.value).startswith("upload.xml: ")


def test_the_size_limit_is_the_packages():
    assert len(ing_statement()) < MAX_FILE_BYTES < 6 * 1024 * 1024
    padded = ing_statement().replace(b"</Document>", b"</Document>" + b" " * (MAX_FILE_BYTES - len(ing_statement())))
    assert len(padded) == MAX_FILE_BYTES
    assert read_camt(padded)[0].closing_balance == 105_500


def test_a_booked_entry_needs_a_status_a_sign_and_a_booking_date():
    base = _entry("1.00", "CRDT", "A", "a", "x", "NL02ABNA0123456789")
    for broken, fragment in (
        (base.replace("<Sts>BOOK</Sts>", ""), "status ontbreekt"),
        (base.replace("<CdtDbtInd>CRDT</CdtDbtInd>", ""), "geen teken voor bij of af"),
        (base.replace("<BookgDt><Dt>2026-03-02</Dt></BookgDt>", ""), "zonder boekdatum"),
        (base.replace('Ccy="EUR"', 'Ccy="USD"'), "bedrag in USD"),
    ):
        with pytest.raises(StatementRefused, match=fragment):
            read_camt(ing_statement(closing="1.00", count="1", entries=broken))
