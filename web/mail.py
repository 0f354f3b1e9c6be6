"""Optional e-mail of invite links, when SMTP_HOST is configured.

Invariant: the address is used for this one message only; it is never stored or logged.
"""
import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext as _

from models.rules import RuleViolation


def mail_configured() -> bool:
    """Whether an SMTP server is configured."""
    return bool(current_app.config.get("SMTP_HOST") and current_app.config.get("SMTP_SENDER"))


def clean_address(raw: str | None) -> str:
    """A plausible single e-mail address, or RuleViolation."""
    address = (raw or "").strip()
    local, _at, domain = address.partition("@")
    if not local or "." not in domain or any(c in address for c in " ,;<>\r\n"):
        raise RuleViolation(_("Vul een geldig e-mailadres in."), field="address")
    return address


def send_invite_link(address: str, link: str) -> None:
    """Send the invite link to `address` through the configured SMTP server."""
    config = current_app.config
    message = EmailMessage()
    message["From"], message["To"] = config["SMTP_SENDER"], clean_address(address)
    message["Subject"] = _("Je uitnodiging voor Teambudget")
    message.set_content(_("Open deze link op je telefoon om een passkey te maken. De link werkt één keer "
                          "en is 72 uur geldig:\n\n%(link)s\n", link=link))
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=15) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)
