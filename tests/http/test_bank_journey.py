"""Issue 12 end to end, through the coordinator's pages: grant → batch (downloaded, marked executed) → the
bank's statement of the team account imported (top-up and card load matched to their ledger entries) → the
card's own account statement imported (its load and spending matched to the card) → a pharmacy payment on a
groceries grant and a cash withdrawal flagged → the coordinator accepts one and asks the worker about the
other on the queue → the worker sees the question and the bank lines on the request → bank and ledger agree
for the team account (models/bank_balances.py)."""
import io
from datetime import datetime, timezone

import pytest
from sqlmodel import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from models.bank_balances import team_account_balances
from models.bank_statements import BankLine
from models.batches import LoadBatch
from models.reconciliation import BankFlag
from tests.card_world import SEPA_CONFIG, card_on, granted_request, municipality_id

TEAM_IBAN = "NL20INGB0001234567"
CARD_IBAN = "NL44RABO0123456789"


@pytest.fixture
def app(make_app):
    """The app with the foundation's and the card bank's accounts configured."""
    return make_app(**SEPA_CONFIG)


def camt053(iban: str, statement_id: str, opening_cents: int, entries: list[dict]) -> bytes:
    """A camt.053.001.02 statement of `iban` as a Dutch bank writes it: each entry a dict with amount_cents
    (signed), day, ref (the end-to-end reference, optional), name, text, mcc and subfamily (optional)."""
    closing = opening_cents + sum(entry["amount_cents"] for entry in entries)
    total = sum(abs(entry["amount_cents"]) for entry in entries)

    def euros(cents):
        return f"{abs(cents) // 100}.{abs(cents) % 100:02d}"

    def entry_xml(number, entry):
        credit = entry["amount_cents"] > 0
        party = f"<{'Dbtr' if credit else 'Cdtr'}><Nm>{entry['name']}</Nm></{'Dbtr' if credit else 'Cdtr'}>"
        card = (f"<CardTx><Card><PlainCardData><MskdPAN>5412 75** **** 1234</MskdPAN></PlainCardData></Card>"
                f"<Tx><Indv><MrchntCtgyCd>{entry['mcc']}</MrchntCtgyCd></Indv></Tx></CardTx>"
                ) if entry.get("mcc") else ""
        family = ("RCDT", "ESCT") if credit else ("CCRD", entry.get("subfamily", "POSD")) if entry.get("mcc") \
            else ("ICDT", "ESCT")
        return f"""
      <Ntry>
        <Amt Ccy="EUR">{euros(entry['amount_cents'])}</Amt><CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>
        <Sts>BOOK</Sts><BookgDt><Dt>{entry['day']}</Dt></BookgDt><ValDt><Dt>{entry['day']}</Dt></ValDt>
        <AcctSvcrRef>{statement_id}-{number:04d}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family[0]}</Cd><SubFmlyCd>{family[1]}</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{entry.get('ref', 'NOTPROVIDED')}</EndToEndId></Refs>
          <RltdPties>{party}</RltdPties>
          <RmtInf><Ustrd>{entry['text']}</Ustrd></RmtInf>{card}
        </TxDtls></NtryDtls>
      </Ntry>"""

    first, last = entries[0]["day"], entries[-1]["day"]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{last}T22:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id><CreDtTm>{last}T22:00:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{euros(opening_cents)}</Amt>
        <CdtDbtInd>{'DBIT' if opening_cents < 0 else 'CRDT'}</CdtDbtInd><Dt><Dt>{first}</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{euros(closing)}</Amt>
        <CdtDbtInd>{'DBIT' if closing < 0 else 'CRDT'}</CdtDbtInd><Dt><Dt>{last}</Dt></Dt></Bal>
      <TxsSummry><TtlNtries><NbOfNtries>{len(entries)}</NbOfNtries><Sum>{euros(total)}</Sum></TtlNtries></TxsSummry>
      {''.join(entry_xml(number, entry) for number, entry in enumerate(entries, 1))}
    </Stmt>
  </BkToCstmrStmt>
</Document>""".encode()


def upload(client, name, data):
    """POST one statement file as the bank page's form does."""
    boundary, body = encode_multipart(MultiDict([("statement", FileStorage(io.BytesIO(data), name))]))
    return client.post("/beheer/bank/afschriften", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_grant_batch_statements_flags_resolved_and_balances_agree(client, session, make_team, make_member, login_as,
                                                                   clock):
    clock(datetime(2026, 12, 1, 9, tzinfo=timezone.utc))
    team = make_team("Team Oost")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, worker, voter, 6_000)  # groceries, EUR 60.00
    card = card_on(session, team, request, coordinator, last_four="1234")

    # the coordinator: a batch with the load and the top-up it needs, downloaded, executed; the card's account
    login_as(coordinator)
    assert client.post("/beheer/kaarten/opdrachten", data={"card_id": card.id, f"top_up_{team.id}": "60"}
                       ).status_code == 303
    batch = session.exec(select(LoadBatch)).one()
    assert client.post(f"/beheer/kaarten/opdrachten/{batch.id}/download").status_code == 200
    assert client.post(f"/beheer/kaarten/opdrachten/{batch.id}/uitgevoerd").status_code == 303
    assert client.post(f"/beheer/kaarten/{card.id}/rekening", data={"account_iban": CARD_IBAN}).status_code == 303

    # the team account's statement: the top-up in, the load out
    team_statement = camt053(TEAM_IBAN, "ING-2026-12-02", 0, [
        {"amount_cents": 6_000, "day": "2026-12-02", "ref": f"TB-{team.id}-OPW{batch.id}",
         "name": "Stichting Teambudget", "text": f"Opwaardering TB-{team.id}-OPW{batch.id}"},
        {"amount_cents": -6_000, "day": "2026-12-02", "ref": f"TB-{team.id}-{request.id}", "name": "Kaartbank",
         "text": f"Lading TB-{team.id}-{request.id}"}])
    response = upload(client, "team.xml", team_statement)
    assert response.status_code == 200, response.text
    session.expire_all()
    matched = {line.match: line for line in session.exec(select(BankLine))}
    assert set(matched) == {"top_up", "load"}
    assert matched["top_up"].entry_id is not None and matched["load"].card_id == card.id

    # the card's own account: the load arriving, a pharmacy and a cash withdrawal
    card_statement = camt053(CARD_IBAN, "KB-2026-12-03", 0, [
        {"amount_cents": 6_000, "day": "2026-12-02", "ref": f"TB-{team.id}-{request.id}", "name": "Kaartbank",
         "text": f"Lading TB-{team.id}-{request.id}"},
        {"amount_cents": -3_820, "day": "2026-12-03", "name": "Apotheek De Roos", "text": "Apotheek De Roos",
         "mcc": "5912"},
        {"amount_cents": -2_000, "day": "2026-12-03", "name": "Geldautomaat Centrum", "text": "Opname Centrum",
         "mcc": "6011", "subfamily": "CWDL"}])
    assert upload(client, "kaart.xml", card_statement).status_code == 200
    session.expire_all()
    spending = session.exec(select(BankLine).where(BankLine.match == "spending")).all()
    assert sorted(line.amount_cents for line in spending) == [-3_820, -2_000]
    assert {line.card_id for line in spending} == {card.id} and {line.request_id for line in spending} == {request.id}

    # both are flagged, and stand in the coordinator's queue
    flags = {flag.reason: flag for flag in session.exec(select(BankFlag))}
    assert {"purpose", "cash"} <= set(flags)
    assert session.get(BankLine, flags["purpose"].bank_line_id).counterparty_name == "Apotheek De Roos"
    clock(datetime(2026, 12, 4, 9, tzinfo=timezone.utc))
    login_as(coordinator)  # days later
    queue = client.get("/beheer/bank/controle").text
    assert f'data-flag="{flags["purpose"].id}"' in queue and f'data-flag="{flags["cash"].id}"' in queue
    assert "De winkel past niet bij de soort uitgave" in queue and "Geld opgenomen bij een geldautomaat" in queue

    # the coordinator accepts the pharmacy and asks the worker about the cash
    assert client.post(f"/beheer/bank/controle/{flags['purpose'].id}", data={
        "resolution": "accepted", "note": "Bij de apotheek ook babyvoeding gekocht."}).status_code == 303
    assert client.post(f"/beheer/bank/controle/{flags['cash'].id}", data={
        "resolution": "asked_worker", "note": "Waarom contant geld? Bespreek het met de cliënt."}).status_code == 303
    session.expire_all()
    assert {flag.reason: flag.resolution for flag in session.exec(select(BankFlag))
            if flag.reason in ("purpose", "cash")} == {"purpose": "accepted", "cash": "asked_worker"}
    queue = client.get("/beheer/bank/controle").text
    assert all(f'data-resolved-flag="{flags[reason].id}"' in queue for reason in ("purpose", "cash"))

    # the worker sees the question and what the bank showed, beside the receipts
    login_as(worker)
    page = client.get(f"/teams/{team.id}/aanvragen/{request.id}").text
    assert "Waarom contant geld? Bespreek het met de cliënt." in page
    assert "bank: €\xa038,20 bij Apotheek De Roos, 3 dec 2026" in page
    assert "bank: €\xa060,00 op de kaart gezet, 2 dec 2026" in page

    # bank and ledger agree for the team account
    [balance] = team_account_balances(session, municipality_id(session, team))
    assert (balance.bank_cents, balance.ledger_cents, balance.difference_cents) == (0, 0, 0)
    assert balance.explanations == [] and balance.explained
