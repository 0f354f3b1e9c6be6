"""The bank order of a load batch as a SEPA credit transfer file (pain.001.001.03).

Invariants: every account is checked with schwifty before a file is made (a wrong IBAN or BIC is a
RuleViolation, never a file the bank refuses later); the file has one transaction per batch line with
exactly its amount in cents and its anonymous reference as the remittance information, so its NbOfTxs
and CtrlSum are the batch's; sepaxml validates the file against the XSD before it is returned.

Who pays whom: the foundation's account (the debtor) pays the card bank (the creditor), which keeps the
team accounts behind the cards: a top-up line credits the team account, a load line (reference
"TB-<team>-<request>") loads the card the card bank knows by that reference.
"""
from datetime import date

from flask_babel import lazy_gettext as _l
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer

from models.rules import RuleViolation

#: the settings a file needs (configuration: web/config.py reads them from the environment)
SETTINGS = ("SEPA_DEBTOR_NAME", "SEPA_DEBTOR_IBAN", "SEPA_DEBTOR_BIC",
            "SEPA_CREDITOR_NAME", "SEPA_CREDITOR_IBAN", "SEPA_CREDITOR_BIC")


def checked_accounts(settings: dict) -> dict:
    """The debtor's and creditor's names and accounts, IBAN and BIC checked; RuleViolation if one is wrong."""
    missing = [name for name in SETTINGS if not settings.get(name)]
    if missing:
        raise RuleViolation(_l("De bankgegevens zijn niet ingesteld: %(names)s.", names=", ".join(missing)))
    try:
        return {side: {"name": settings[f"SEPA_{side}_NAME"],
                       "IBAN": IBAN(settings[f"SEPA_{side}_IBAN"]).compact,
                       "BIC": str(BIC(settings[f"SEPA_{side}_BIC"]))}
                for side in ("DEBTOR", "CREDITOR")}
    except SchwiftyException as error:
        raise RuleViolation(_l("Een IBAN of BIC in de bankgegevens klopt niet: %(error)s", error=str(error))) from error


def pain001(batch_id: int, lines, settings: dict, *, execution_date: date) -> str:
    """The pain.001.001.03 file for the batch's lines (BatchLine rows), validated against the XSD."""
    accounts = checked_accounts(settings)
    transfer = SepaTransfer({**accounts["DEBTOR"], "batch": True, "currency": "EUR"}, schema="pain.001.001.03")
    for line in lines:
        transfer.add_payment({**accounts["CREDITOR"], "amount": line.amount_cents, "execution_date": execution_date,
                              "description": line.reference, "endtoend_id": f"TB{batch_id}L{line.id}"})
    return transfer.export(validate=True, pretty_print=True).decode()
