"""Teambudget's domain: tables and the rules that act on them.

Importing this package registers every table on `SQLModel.metadata`, which Alembic and the tests rely on.
Domain functions take a session, may `session.add`, and never commit: the caller commits once.
"""
from models.teams import (  # noqa: F401
    BudgetYear, CostCategory, District, Municipality, Provision, ProvisionCategory, Team, TeamBudget)
from models.members import Member, Membership, Role  # noqa: F401
from models.passkeys import Passkey  # noqa: F401
from models.invites import Invite  # noqa: F401
from models.sign_in import LoginSession, WebAuthnChallenge  # noqa: F401
from models.requests import Comment, SpendRequest  # noqa: F401
from models.votes import Stop, Vote  # noqa: F401
from models.ledger import Account, Entry, Posting  # noqa: F401
from models.audit import AuditEvent  # noqa: F401
from models.outbox import ClientOperation  # noqa: F401
from models.subscriptions import PushReminder, PushSubscription  # noqa: F401
from models.receipts import Receipt, ReceiptWaiver  # noqa: F401
from models.loans import Repayment  # noqa: F401
from models.bank_statements import BankLine, BankStatement  # noqa: F401
from models.reconciliation import BankFlag, MerchantRule  # noqa: F401
from models.audit_chain import ChainHead  # noqa: F401
from models.outcome_reviews import OutcomeReview  # noqa: F401
from models.tips import ExpertQuestion, ExpertTopic, Tip, TipCategory  # noqa: F401
from models.policy_signals import SolvedIfNote  # noqa: F401
from models.avoided_costs import AvoidedCostScenario, RequestScenario  # noqa: F401
from models import batches, cards, handover  # noqa: F401,E402  (Card, CardHandover, LoadBatch, BatchLine)
