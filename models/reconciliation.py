"""Reconciliation (issue 12, §2 and §3): bank lines matched to what the ledger expects, and flags for what is
not simply fine, into a queue for coordinators.

Matching (`match_lines`, run by `models.bank_statements.import_statement_file` on the new lines of every
statement it stores, in the same transaction; `rematch_unmatched` runs it again for a municipality's lines that
are still unmatched, e.g. after a batch was executed or a card returned, but not for a line whose unmatched
flag a coordinator resolved; `reconcile` does that and `flag_transfers_not_seen`, before the queue shows,
under the municipality's lock). A line is only ever
matched to something of its own statement's team (so never to another team's or municipality's batch line,
card or entry), and to a batch line only of an executed batch of the statement's municipality:
- **top_up**: a credit on a team account whose text (entry reference, description or bank reference; case and
  spaces do not matter) names `TB-<team>-OPW<batch>` → the top-up BatchLine of that team and batch with
  exactly the line's amount; `entry_id` is the batch line's entry (reserved → bank).
- **load**: a debit on a team account, or a credit on that card's own account statement, naming
  `TB-<team>-<request>` → the load BatchLine of that request with exactly the amount (on a card account also
  of that card); `card_id`, `request_id`, `entry_id` (bank → cards) are the batch line's.
- A batch line is matched by at most one line per account (IBAN): a second line with the same reference and
  amount on the same account stays unmatched and its flag says it may be a double payment. The same load
  may be matched once on the team account and once on the card's own account.
- **return**: a credit on a team account naming a card of the team (its reference as a whole word, its
  last four digits as the reader found them (`card_reference`), or in the text as "pas 1234",
  "kaart ****1234", "card ...1234") whose card was returned with exactly that amount left, and not matched
  to another return line yet → `entry_id` is the card's settle entry ("Kaart <last4> terug").
- **spending**: a debit on a card's own account statement (the card is the statement's), or a debit on a
  team account naming a loaded card of the team as above (a reference first, else the last four; of several
  cards the newest loaded on or before the booking date) → `card_id`, `request_id`; `entry_id` is the card's
  load entry: the bank line spends money that entry put on the card (the ledger books the spending only
  when the card is settled, as one amount).
- Anything else stays unmatched (`match` ""), bank costs and interest included: they are flagged and a
  coordinator explains them.

Flags (`BankFlag`), created when a line is matched (or not), each reason at most once per line (a check,
then the unique (bank_line_id, reason) as the last guard): a reason a line was flagged for, open or resolved,
is never flagged again;
`detail` holds what the check saw (codes, amounts, the category), never a name or a counterparty:
- **cash**: a debit that is a cash withdrawal: the MT940 reader's transaction code "cash" (GEA,
  geldautomaat), a CAMT bank transaction (sub-family) code CWDL (cash withdrawal), BCWD (branch withdrawal)
  or FCWD (foreign currency withdrawal), MCC 6010/6011, or the words geldautomaat, GEA or ATM; also when the
  line matched a card's spending.
- **purpose**: a spending line whose merchant does not fit the cost category of the card's request
  (`merchant_fits`); not for a cash line (its cash flag says more).
- **overspent**: the spending line of a card where the card's spending lines (by booking date) first add up
  to more than its loaded amount; at most one per card.
- **after_settled**: a spending line booked after the Dutch date on which its card was settled as spent or
  returned.
- **unmatched**: every line that matched nothing (detail: "double_of" for a possible double payment,
  "hint" bank_costs for a charge or interest code).
- **not_seen**: `flag_transfers_not_seen`: a top-up or load of an executed batch that no line matched after
  NOT_SEEN_WORKING_DAYS TARGET2 working days (weekends and the ECB's TARGET2 closing days are no working
  days): the flag is raised once `today` is past the fifth working day after the Dutch execution date. It
  carries `batch_line_id`, no bank line.
- A flag resolves itself when what it missed shows up: a not_seen flag when a line matches its batch line, an
  unmatched flag when a later `rematch_unmatched` matches its line. It is kept (an audit of what was seen),
  resolved as "linked" with no member (`resolved_by_id` None) and no note, `detail["seen_in_line"]` naming
  the line and `detail["seen_on"]` its booking day (the queue says the statement showed it on that day);
  audited ("bank_flag_resolved", automatic).

A coordinator resolves a flag in models.bank_review (accepted, asked_worker, linked by hand), audited as
"bank_flag_resolved" like the automatic resolutions here.

Merchants: what fits a cost category is the default tables here (DEFAULT_MCCS, ISO 18245 merchant category
codes, and DEFAULT_KEYWORDS, per category code) plus the municipality's own MerchantRule rows. A line with
an MCC is judged by the MCC only; a line without one by keywords, as whole words, case-insensitive, in the
counterparty's name and the description. Category "other" fits everything, and so does a category without
any table (its own code unknown here and no rule of the municipality): there is nothing to judge by.
Adding a rule is not audited (it names no team); the rule keeps who made it.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.audit import EVENT_LABELS, record
from models.clock import local_date, utcnow

MATCH_KINDS = ("top_up", "load", "return", "spending", "by_hand")
FLAG_REASONS = ("cash", "purpose", "overspent", "after_settled", "unmatched", "not_seen")
NOT_SEEN_WORKING_DAYS = 5

#: ISO 18245 codes of cash: 6010 manual cash disbursements (a bank's counter), 6011 automated (an ATM)
CASH_MCCS = frozenset({"6010", "6011"})
#: ISO 20022 bank transaction sub-family codes of cash taken out: cash withdrawal (CCRD/CWDL, CNTR/CWDL),
#: branch withdrawal, foreign currency withdrawal
CASH_SUBFAMILIES = frozenset({"CWDL", "BCWD", "FCWD"})
#: ISO 20022 sub-families (and MT940 type codes) of bank costs and interest: a hint on an unmatched line
COST_CODES = frozenset({"CHRG", "FEES", "COMM", "INTR", "NCHG", "NINT", "NCOM"})

#: per cost category code, the ISO 18245 merchant category codes that fit it
DEFAULT_MCCS: dict[str, frozenset[str]] = {
    "groceries": frozenset({
        "5411",  # grocery stores, supermarkets
        "5422",  # freezer and locker meat provisioners (butchers)
        "5441",  # candy, nut and confectionery stores
        "5451",  # dairy products stores
        "5462",  # bakeries
        "5499",  # miscellaneous food stores, convenience stores
        "5300",  # wholesale clubs
        "5310",  # discount stores
        "5331",  # variety stores
    }),
    "medical": frozenset({
        "5912",  # drug stores and pharmacies
        "5122",  # drugs, drug proprietaries
        "5975",  # hearing aids
        "5976",  # orthopedic goods, prosthetic devices
        "8011",  # doctors
        "8021",  # dentists, orthodontists
        "8031",  # osteopaths
        "8041",  # chiropractors
        "8042",  # optometrists, ophthalmologists
        "8043",  # opticians, eyeglasses
        "8049",  # podiatrists, chiropodists
        "8050",  # nursing and personal care facilities
        "8062",  # hospitals
        "8071",  # medical and dental laboratories
        "8099",  # medical services, health practitioners
    }),
    "transport": frozenset({
        "4111",  # local and suburban commuter transport, ferries
        "4112",  # passenger railways
        "4121",  # taxicabs and limousines
        "4131",  # bus lines
        "4784",  # tolls and bridge fees
        "4789",  # transportation services
        "5541",  # service stations
        "5542",  # automated fuel dispensers
        "5940",  # bicycle shops
        "7523",  # parking lots and garages
    }),
    "clothing": frozenset({
        "5611",  # men's and boys' clothing
        "5621",  # women's ready-to-wear
        "5631",  # women's accessory and specialty shops
        "5641",  # children's and infants' wear
        "5651",  # family clothing
        "5661",  # shoe stores
        "5691",  # men's and women's clothing
        "5699",  # miscellaneous apparel and accessories
        "5311",  # department stores
        "5310",  # discount stores
    }),
    "children": frozenset({
        "5641",  # children's and infants' wear
        "5945",  # hobby, toy and game shops
        "5943",  # stationery, office and school supply stores
        "5942",  # book stores
        "8211",  # elementary and secondary schools
        "8299",  # schools and educational services
        "8351",  # child care services
    }),
    "furnishing": frozenset({
        "5712",  # furniture and home furnishings
        "5713",  # floor covering stores
        "5714",  # drapery, window covering and upholstery
        "5719",  # miscellaneous home furnishing specialty stores
        "5722",  # household appliance stores
        "5200",  # home supply warehouse stores
        "5211",  # lumber and building materials
        "5251",  # hardware stores
        "5311",  # department stores
        "5310",  # discount stores
    }),
    "energy": frozenset({"4900"}),  # utilities: electric, gas, water, sanitary
    "housing": frozenset({
        "6513",  # real estate agents and managers, rentals
        "4900",  # utilities (service charges with the rent)
    }),
    "fees": frozenset({
        "9311",  # tax payments
        "9399",  # government services
        "9222",  # fines
        "9211",  # court costs
    }),
}
#: per cost category code, words in a merchant's name or a line's text that fit it (when the line has no MCC)
DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "groceries": ("albert heijn", "ah", "jumbo", "lidl", "aldi", "plus", "dirk", "vomar", "hoogvliet", "dekamarkt",
                  "poiesz", "nettorama", "jan linders", "coop", "spar", "ekoplaza", "supermarkt", "bakker", "slager",
                  "voedselbank"),
    "medical": ("apotheek", "drogist", "kruidvat", "etos", "huisarts", "tandarts", "ziekenhuis", "fysiotherapie",
                "opticien", "pharmacy"),
    "transport": ("ns", "gvb", "ret", "htm", "arriva", "qbuzz", "connexxion", "keolis", "ebs", "ov-chipkaart",
                  "ovpay", "tankstation", "shell", "bp", "esso", "tango", "tinq", "fietsenwinkel", "parkeren"),
    "clothing": ("hema", "c&a", "h&m", "primark", "zeeman", "wibra", "kleding", "schoenen", "scapino", "bristol",
                 "van haren"),
    "children": ("school", "kinderopvang", "speelgoed", "intertoys", "bart smit", "bruna", "schoolspullen"),
    "furnishing": ("ikea", "leen bakker", "kwantum", "praxis", "gamma", "karwei", "hornbach", "blokker", "action",
                   "meubels", "witgoed", "kringloop"),
    "energy": ("vattenfall", "eneco", "essent", "greenchoice", "budget energie", "energiedirect", "vandebron",
               "oxxio", "energie", "waternet", "vitens", "evides", "brabant water"),
    "housing": ("huur", "woningcorporatie", "ymere", "eigen haard", "de alliantie", "stadgenoot", "rochdale",
                "woonstad", "portaal", "havensteder"),
    "fees": ("gemeente", "leges", "cjib", "belastingdienst", "rdw", "griffierecht"),
}
#: what a merchant rule's value may hold
_MCC_VALUE = re.compile(r"^[0-9]{4}$")
_KEYWORD_VALUE = re.compile(r"^[A-Za-z0-9À-ÿ &'.-]{2,60}$")
#: TB-<team>-OPW<batch> (a top-up) and TB-<team>-<request> (a load), spaces and case as a bank may write them
_TRANSFER = re.compile(r"(?<![A-Z0-9])TB[\s-]*(\d{1,9})[\s-]+(?:OPW[\s-]*(\d{1,9})|(\d{1,9}))(?![0-9])",
                       re.IGNORECASE)
#: a card's last four digits named in a line's text
_LAST_FOUR_IN_TEXT = re.compile(r"(?<![A-Z])(?:PASNR|PAS|KAART|CARD)\b\.?\s*(?:NR\.?|NO\.?|:)?\s*[*xX.•]*\s*"
                                r"(\d{4})(?![0-9])", re.IGNORECASE)
_CASH_WORDS = re.compile(r"\b(?:GELDAUTOMAAT|GEA|ATM)\b", re.IGNORECASE)


class BankFlag(SQLModel, table=True):
    """One reason a bank line (or an expected transfer the bank never showed) needs a coordinator's look."""

    __table_args__ = (UniqueConstraint("bank_line_id", "reason"), UniqueConstraint("batch_line_id", "reason"),
                      Index("ix_bankflag_queue", "municipality_id", "resolved_at"))
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id")
    team_id: int = Field(foreign_key="team.id", index=True)
    #: the flagged line; None for a transfer the bank did not show (then batch_line_id is set)
    bank_line_id: int | None = Field(default=None, foreign_key="bankline.id", index=True)
    batch_line_id: int | None = Field(default=None, foreign_key="batchline.id")
    #: cash, purpose, overspent, after_settled, unmatched, not_seen
    reason: str = Field(max_length=20)
    #: what the check saw (an MCC, the category, amounts), never a person
    detail: dict = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(default=None, foreign_key="member.id")
    #: accepted, asked_worker, linked
    resolution: str | None = Field(default=None, max_length=20)
    resolution_note: str = Field(default="", sa_type=Text)


class MerchantRule(SQLModel, table=True):
    """A municipality's own addition to what fits a cost category: a merchant category code or a keyword."""

    __table_args__ = (UniqueConstraint("municipality_id", "category_id", "kind", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    category_id: int = Field(foreign_key="costcategory.id")
    #: mcc (an ISO 18245 code, four digits) or keyword (matched in the merchant's name and the line's text)
    kind: str = Field(max_length=10)
    value: str = Field(max_length=60)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)


# a coordinator's resolution (models.bank_review) and an automatic one (here) are both this event
EVENT_LABELS.update({"bank_flag_resolved": _l("melding over de bank afgehandeld")})


@dataclass
class MatchCounts:
    """What `match_lines` did: lines matched, and flags created."""

    matched: int = 0
    flagged: int = 0


# --- reading a line -------------------------------------------------------------------------------------

def _text(line) -> str:
    return " ".join(part for part in (line.entry_reference, line.description, line.bank_reference) if part)


def transfer_references(text: str) -> list[tuple[int, str, int]]:
    """The app's transfer references in a text: (team id, "top_up", batch id) or (team id, "load", request id)."""
    found = []
    for match in _TRANSFER.finditer(text or ""):
        if match.group(2):
            found.append((int(match.group(1)), "top_up", int(match.group(2))))
        else:
            found.append((int(match.group(1)), "load", int(match.group(3))))
    return found


def is_cash(line) -> bool:
    """Whether a debit line is a cash withdrawal (see the module docstring)."""
    if line.amount_cents >= 0:
        return False
    code = (line.transaction_code or "").upper()
    if code == "CASH" or CASH_SUBFAMILIES & set(code.split("/")):
        return True
    if line.merchant_category_code in CASH_MCCS:
        return True
    return bool(_CASH_WORDS.search(f"{line.counterparty_name} {line.description}"))


def _is_bank_cost(line) -> bool:
    return bool(COST_CODES & set((line.transaction_code or "").upper().split("/")))


@lru_cache(maxsize=512)
def _word_pattern(keyword: str) -> re.Pattern:
    words = r"\s+".join(re.escape(word) for word in keyword.split())
    return re.compile(rf"(?<![\w&]){words}(?![\w&])", re.IGNORECASE)


def keyword_found(keyword: str, text: str) -> bool:
    """Whether `keyword` stands in `text` as whole words, case-insensitive."""
    return bool(keyword.strip()) and bool(_word_pattern(keyword.strip().lower()).search(text or ""))


# --- what fits a cost category ---------------------------------------------------------------------------

def merchant_rules(session: Session, municipality_id: int, category_id: int | None = None) -> list[MerchantRule]:
    """The municipality's own merchant rules (of one category), by category, kind and value."""
    query = select(MerchantRule).where(MerchantRule.municipality_id == municipality_id)
    if category_id is not None:
        query = query.where(MerchantRule.category_id == category_id)
    return list(session.exec(query.order_by(MerchantRule.category_id, MerchantRule.kind, MerchantRule.value)))


def merchant_fits(session: Session, municipality_id: int, category, line, *, rules: list | None = None) -> bool:
    """Whether the line's merchant fits the cost category (a CostCategory): by the line's MCC where it has one,
    else by keywords in its counterparty's name and description; the defaults here plus the municipality's
    rules (`rules`: the category's, when the caller read them already). "other", and a category with nothing
    to judge by, fit everything."""
    if category is None or category.code == "other":
        return True
    rules = merchant_rules(session, municipality_id, category.id) if rules is None else rules
    mccs = set(DEFAULT_MCCS.get(category.code, ())) | {rule.value for rule in rules if rule.kind == "mcc"}
    keywords = list(DEFAULT_KEYWORDS.get(category.code, ())) + [rule.value for rule in rules if rule.kind == "keyword"]
    if not mccs and not keywords:
        return True
    if line.merchant_category_code:
        return line.merchant_category_code in mccs
    text = f"{line.counterparty_name} {line.description}"
    return any(keyword_found(keyword, text) for keyword in keywords)


def _category_of(session: Session, category, municipality_id: int):
    from models.teams import CostCategory

    found = session.get(CostCategory, category) if isinstance(category, int) else category
    if found is None or found.municipality_id != municipality_id:
        from models.rules import RuleViolation

        raise RuleViolation(_l("Kies een soort uitgave van deze gemeente."), field="category_id")
    return found


def add_merchant_rule(session: Session, municipality_id: int, category, kind: str, value, *,
                      actor_id: int | None) -> MerchantRule:
    """Add what fits a cost category (CostCategory or its id): an MCC (four digits) or a keyword (2–60
    letters, digits, spaces, & - ' .); RuleViolation (field "kind" or "value") otherwise, or when it exists."""
    from models.rules import RuleViolation

    category = _category_of(session, category, municipality_id)
    if kind not in ("mcc", "keyword"):
        raise RuleViolation(_l("Kies een code (MCC) of een trefwoord."), field="kind")
    value = " ".join(value.split()) if isinstance(value, str) else ""
    if kind == "mcc" and not _MCC_VALUE.match(value):
        raise RuleViolation(_l("Een MCC is precies vier cijfers, zoals 5912."), field="value")
    if kind == "keyword":
        if not _KEYWORD_VALUE.match(value):
            raise RuleViolation(_l("Een trefwoord heeft 2 tot 60 letters, cijfers, spaties of & - ' ."),
                                field="value")
        value = value.lower()
    if session.exec(select(MerchantRule.id).where(
            MerchantRule.municipality_id == municipality_id, MerchantRule.category_id == category.id,
            MerchantRule.kind == kind, MerchantRule.value == value)).first():
        raise RuleViolation(_l("Deze regel bestaat al."), field="value")
    rule = MerchantRule(municipality_id=municipality_id, category_id=category.id, kind=kind, value=value,
                        created_by_id=actor_id)
    session.add(rule)
    session.flush()
    return rule


def remove_merchant_rule(session: Session, municipality_id: int, rule_id: int, *, actor_id: int | None) -> None:
    """Remove one of the municipality's own rules (the defaults stay); RuleViolation for another's or none."""
    from models.rules import RuleViolation

    rule = session.get(MerchantRule, rule_id) if isinstance(rule_id, int) else None
    if rule is None or rule.municipality_id != municipality_id:
        raise RuleViolation(_l("Die regel bestaat niet."), field="value")
    session.delete(rule)
    session.flush()


# --- matching --------------------------------------------------------------------------------------------

class _Run:
    """What one `match_lines` call reads once instead of once per line: statements, the flags its lines have,
    the teams' loaded cards, the requests' categories, the municipality's rules, the cards' load entries."""

    def __init__(self, session: Session, lines: list):
        self.session = session
        self.statements: dict[int, object] = {}
        self.notes: dict[int, dict] = {}  # per line, what its unmatched flag should say (a possible double)
        self.loaded_cards: dict[int, list] = {}
        self.categories: dict[int, object] = {}
        self.rules: dict[tuple[int, int], list] = {}
        self.load_entries: dict[int, int | None] = {}
        self.flags: set[tuple[int, str]] = set()  # (line id, reason) of every flag the lines have
        self.open_unmatched: set[int] = set()
        ids = [line.id for line in lines]
        for start in range(0, len(ids), 500):
            for line_id, reason, resolved_at in session.exec(select(
                    BankFlag.bank_line_id, BankFlag.reason, BankFlag.resolved_at).where(
                    BankFlag.bank_line_id.in_(ids[start:start + 500]))):
                self.flags.add((line_id, reason))
                if reason == "unmatched" and resolved_at is None:
                    self.open_unmatched.add(line_id)

    def statement(self, line):
        from models.bank_statements import BankStatement

        if line.statement_id not in self.statements:
            self.statements[line.statement_id] = self.session.get(BankStatement, line.statement_id)
        return self.statements[line.statement_id]

    def category(self, request_id: int | None):
        if request_id not in self.categories:
            self.categories[request_id] = _category_of_request(self.session, request_id)
        return self.categories[request_id]

    def rules_of(self, municipality_id: int, category_id: int) -> list:
        if (municipality_id, category_id) not in self.rules:
            self.rules[municipality_id, category_id] = merchant_rules(self.session, municipality_id, category_id)
        return self.rules[municipality_id, category_id]

    def load_entry(self, card_id: int) -> int | None:
        from models.batch_lines import BatchLine

        if card_id not in self.load_entries:
            self.load_entries[card_id] = self.session.exec(select(BatchLine.entry_id).where(
                BatchLine.card_id == card_id, BatchLine.kind == "load", BatchLine.entry_id.is_not(None))
                .order_by(BatchLine.id.desc())).first()
        return self.load_entries[card_id]

    def flag(self, line, statement, reason: str, detail: dict) -> int:
        """Add the flag unless the line has one of this reason already; 1 when added, else 0."""
        if (line.id, reason) in self.flags:
            return 0
        self.flags.add((line.id, reason))
        self.session.add(BankFlag(municipality_id=statement.municipality_id, team_id=line.team_id,
                                  bank_line_id=line.id, reason=reason, detail=detail))
        return 1


def match_lines(session: Session, lines: list) -> MatchCounts:
    """Match each unmatched BankLine to what the ledger expects and flag it (the module docstring's rules);
    lines already matched are only checked for flags they do not have yet. Callers hold the money lock."""
    counts = MatchCounts()
    run = _Run(session, lines)
    ordered = sorted(lines, key=lambda line: (line.booking_date, line.id))
    for line in ordered:
        if not line.match and _match_one(session, line, run.statement(line), run):
            counts.matched += 1
            session.add(line)
    session.flush()
    touched_cards = set()
    for line in ordered:
        statement = run.statement(line)
        counts.flagged += _flag_line(session, line, statement, run)
        if line.match == "spending" and line.card_id:
            touched_cards.add((line.card_id, statement.municipality_id))
    session.flush()
    for card_id, municipality_id in sorted(touched_cards):
        counts.flagged += _flag_overspent(session, card_id, municipality_id)
    session.flush()
    return counts


def _match_one(session: Session, line, statement, run: _Run) -> bool:
    on_card = statement.card_id is not None
    for team_id, kind, number in transfer_references(_text(line)):
        if team_id != line.team_id:
            continue  # another team's reference: never matched here
        if kind == "top_up" and not on_card and line.amount_cents > 0:
            found = _batch_line(session, line, statement, "top_up", number)
        elif kind == "load" and ((on_card and line.amount_cents > 0) or (not on_card and line.amount_cents < 0)):
            found = _batch_line(session, line, statement, "load", number)
        else:
            continue
        if found is None:
            continue
        batch_line, other_line_id = found
        if other_line_id is not None:
            run.notes[line.id] = {"double_of": other_line_id, "batch_line_id": batch_line.id}
            return False
        line.match = kind
        line.batch_line_id, line.entry_id = batch_line.id, batch_line.entry_id
        if kind == "load":
            line.card_id, line.request_id = batch_line.card_id, batch_line.request_id
        _resolve_automatically(session, line, select(BankFlag).where(
            BankFlag.batch_line_id == batch_line.id, BankFlag.reason == "not_seen"))
        _matched_at_last(session, line, run)
        return True
    if on_card:
        if line.amount_cents < 0:
            from models.cards import Card

            return _spent(session, line, session.get(Card, statement.card_id), run)
        return False
    if line.amount_cents > 0:
        card = _returned_card(session, line)
        if card is None:
            return False
        from models.ledger import Entry

        line.match, line.card_id, line.request_id = "return", card.id, card.request_id
        line.entry_id = session.exec(select(Entry.id).where(
            Entry.team_id == line.team_id, Entry.request_id == card.request_id,
            Entry.memo == f"Kaart {card.last_four} terug").order_by(Entry.id.desc())).first()
        _matched_at_last(session, line, run)
        return True
    if line.amount_cents < 0:
        card = _named_loaded_card(session, line, run)
        return card is not None and _spent(session, line, card, run)
    return False


def _batch_line(session: Session, line, statement, kind: str, number: int):
    """The executed batch line the reference names with exactly the line's amount, and the id of a line of the
    same account already matched to it (None when it is free); None when there is no such batch line."""
    from models.bank_statements import BankLine, BankStatement
    from models.batch_lines import BatchLine, LoadBatch

    query = (select(BatchLine).join(LoadBatch, LoadBatch.id == BatchLine.batch_id)
             .where(BatchLine.team_id == line.team_id, BatchLine.kind == kind,
                    BatchLine.amount_cents == abs(line.amount_cents),
                    LoadBatch.municipality_id == statement.municipality_id, LoadBatch.executed_at.is_not(None)))
    if kind == "top_up":
        query = query.where(BatchLine.batch_id == number)
    else:
        query = query.where(BatchLine.request_id == number)
        if statement.card_id is not None:
            query = query.where(BatchLine.card_id == statement.card_id)
    candidates = list(session.exec(query.order_by(BatchLine.id)))
    taken = None
    for candidate in candidates:
        other = session.exec(select(BankLine.id).join(BankStatement, BankStatement.id == BankLine.statement_id).where(
            BankLine.batch_line_id == candidate.id, BankStatement.account_iban == statement.account_iban,
            BankLine.id != line.id)).first()
        if other is None:
            return candidate, None
        taken = taken or (candidate, other)
    return taken


def _card_named(session: Session, line, cards: list) -> list:
    """Of the team's cards, those the line names: by reference (whole word) first, else by last four digits."""
    text = f"{_text(line)} {line.counterparty_name}"
    by_reference = [card for card in cards if len(card.reference) >= 4 and re.search(
        rf"(?<![A-Za-z0-9-]){re.escape(card.reference)}(?![A-Za-z0-9-])", text, re.IGNORECASE)]
    if by_reference:
        return by_reference
    digits = {line.card_reference} if re.fullmatch(r"[0-9]{4}", line.card_reference or "") else set()
    digits |= set(_LAST_FOUR_IN_TEXT.findall(text))
    return [card for card in cards if card.last_four in digits]


def _returned_card(session: Session, line):
    from models.bank_statements import BankLine
    from models.cards import Card, CardState

    cards = list(session.exec(select(Card).where(
        Card.team_id == line.team_id, Card.state == CardState.RETURNED,
        Card.returned_amount_cents == line.amount_cents).order_by(Card.closed_at.desc(), Card.id.desc())))
    for card in _card_named(session, line, cards):
        if session.exec(select(BankLine.id).where(BankLine.card_id == card.id, BankLine.match == "return",
                                                  BankLine.id != line.id)).first() is None:
            return card
    return None


def _named_loaded_card(session: Session, line, run: _Run):
    from models.cards import Card

    if line.team_id not in run.loaded_cards:
        run.loaded_cards[line.team_id] = list(session.exec(select(Card).where(
            Card.team_id == line.team_id, Card.loaded_at.is_not(None)).order_by(Card.loaded_at.desc(), Card.id.desc())))
    cards = _card_named(session, line, run.loaded_cards[line.team_id])
    before = [card for card in cards if local_date(card.loaded_at) <= line.booking_date]
    return (before or cards or [None])[0]


def _spent(session: Session, line, card, run: _Run) -> bool:
    if card is None or card.team_id != line.team_id:
        return False
    line.match, line.card_id, line.request_id = "spending", card.id, card.request_id
    line.entry_id = run.load_entry(card.id)
    _matched_at_last(session, line, run)
    return True


def _matched_at_last(session: Session, line, run: _Run) -> None:
    """A line matched on a later run: its open unmatched flag resolves itself."""
    if line.id in run.open_unmatched:
        _resolve_automatically(session, line, select(BankFlag).where(
            BankFlag.bank_line_id == line.id, BankFlag.reason == "unmatched"))


def _resolve_automatically(session: Session, line, flags_query) -> None:
    """Resolve open flags that this line's match answers (a transfer not seen, the line itself unmatched)."""
    for flag in session.exec(flags_query.where(BankFlag.resolved_at.is_(None))):
        flag.resolved_at, flag.resolution = utcnow(), "linked"
        # no note typed in Dutch: the queue says it in the reader's language, with the day in its format
        flag.detail = {**flag.detail, "seen_in_line": line.id, "seen_on": line.booking_date.isoformat()}
        session.add(flag)
        record(session, team_id=flag.team_id, request_id=line.request_id, action="bank_flag_resolved",
               actor_id=None, flag_id=flag.id, reason=flag.reason, resolution="linked", automatic=True)


# --- flags -----------------------------------------------------------------------------------------------

def _add_flag(session: Session, *, municipality_id: int, team_id: int, reason: str, detail: dict,
              bank_line_id: int | None = None, batch_line_id: int | None = None) -> int:
    """Add the flag unless the line (or batch line) has one of this reason already; 1 when added, else 0."""
    query = select(BankFlag.id).where(BankFlag.reason == reason)
    query = query.where(BankFlag.bank_line_id == bank_line_id) if bank_line_id is not None \
        else query.where(BankFlag.batch_line_id == batch_line_id, BankFlag.bank_line_id.is_(None))
    if session.exec(query).first() is not None:
        return 0
    session.add(BankFlag(municipality_id=municipality_id, team_id=team_id, bank_line_id=bank_line_id,
                         batch_line_id=batch_line_id, reason=reason, detail=detail))
    session.flush()
    return 1


def _flag_line(session: Session, line, statement, run: _Run) -> int:
    from models.cards import Card, CardState

    added = 0
    cash = is_cash(line)
    if cash:
        added += run.flag(line, statement, "cash", {"amount_cents": line.amount_cents,
                                                    "mcc": line.merchant_category_code,
                                                    "code": (line.transaction_code or "")[:40]})
    if line.match == "spending" and line.card_id:
        card = session.get(Card, line.card_id)
        category = run.category(card.request_id)
        if not cash and category is not None and not merchant_fits(
                session, statement.municipality_id, category, line,
                rules=run.rules_of(statement.municipality_id, category.id)):
            added += run.flag(line, statement, "purpose", {
                "amount_cents": line.amount_cents, "category": category.code, "mcc": line.merchant_category_code,
                "by": "mcc" if line.merchant_category_code else "keywords"})
        if card.state in (CardState.SPENT, CardState.RETURNED) and card.closed_at is not None \
                and line.booking_date > local_date(card.closed_at):
            added += run.flag(line, statement, "after_settled", {
                "amount_cents": line.amount_cents, "state": card.state,
                "settled_on": local_date(card.closed_at).isoformat(), "booked_on": line.booking_date.isoformat()})
    if not line.match:
        detail = {"amount_cents": line.amount_cents, "booked_on": line.booking_date.isoformat(),
                  **run.notes.get(line.id, {})}
        if _is_bank_cost(line):
            detail["hint"] = "bank_costs"
        added += run.flag(line, statement, "unmatched", detail)
    return added


def _category_of_request(session: Session, request_id: int | None):
    from models.requests import SpendRequest
    from models.teams import CostCategory

    if request_id is None:
        return None
    category_id = session.exec(select(SpendRequest.cost_category_id).where(SpendRequest.id == request_id)).first()
    return session.get(CostCategory, category_id) if category_id else None


def _flag_overspent(session: Session, card_id: int, municipality_id: int) -> int:
    """Flag the spending line where the card's spending first passes its loaded amount (once per card)."""
    from models.bank_statements import BankLine
    from models.cards import Card

    spending = list(session.exec(select(BankLine).where(BankLine.card_id == card_id, BankLine.match == "spending")
                                 .order_by(BankLine.booking_date, BankLine.id)))
    if session.exec(select(BankFlag.id).where(BankFlag.reason == "overspent", BankFlag.bank_line_id.in_(
            [line.id for line in spending]))).first() is not None:
        return 0
    card = session.get(Card, card_id)
    loaded = card.loaded_amount_cents or 0
    total = 0
    for line in spending:
        total += -line.amount_cents
        if total > loaded:
            return _add_flag(session, municipality_id=municipality_id, team_id=line.team_id, reason="overspent",
                             detail={"loaded_cents": loaded, "spent_cents": total}, bank_line_id=line.id)
    return 0


# --- transfers the bank did not show ----------------------------------------------------------------------

@lru_cache(maxsize=16)
def _target2_closed(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.financial_holidays("ECB", years=year))


def is_working_day(day: date) -> bool:
    """A TARGET2 (and Dutch banking) day: not a weekend, not a TARGET2 closing day."""
    return day.weekday() < 5 and day not in _target2_closed(day.year)


def working_days_after(start: date, days: int) -> date:
    """The `days`-th working day after `start`."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def flag_transfers_not_seen(session: Session, municipality_id: int, today: date) -> int:
    """Flag every top-up and load of an executed batch of the municipality that no bank line matched and whose
    fifth working day after execution has passed; once per batch line. How many flags were added."""
    from models.bank_statements import BankLine
    from models.batch_lines import BatchLine, LoadBatch

    rows = session.exec(select(BatchLine, LoadBatch.executed_at).join(LoadBatch, LoadBatch.id == BatchLine.batch_id)
                        .where(LoadBatch.municipality_id == municipality_id, LoadBatch.executed_at.is_not(None),
                               BatchLine.id.not_in(select(BankLine.batch_line_id)
                                                   .where(BankLine.batch_line_id.is_not(None))),
                               BatchLine.id.not_in(select(BankFlag.batch_line_id).where(
                                   BankFlag.reason == "not_seen", BankFlag.batch_line_id.is_not(None))))
                        .order_by(BatchLine.id)).all()
    added = 0
    for batch_line, executed_at in rows:
        executed_on = local_date(executed_at)
        due = working_days_after(executed_on, NOT_SEEN_WORKING_DAYS)
        if today > due:
            added += _add_flag(session, municipality_id=municipality_id, team_id=batch_line.team_id,
                               reason="not_seen", batch_line_id=batch_line.id, detail={
                                   "batch_id": batch_line.batch_id, "kind": batch_line.kind,
                                   "amount_cents": batch_line.amount_cents, "executed_on": executed_on.isoformat(),
                                   "due_on": due.isoformat()})
    return added


def rematch_unmatched(session: Session, municipality_id: int) -> MatchCounts:
    """Run matching again for the municipality's lines that are still unmatched (e.g. after a batch was executed);
    their open unmatched flags resolve themselves. A line whose unmatched flag a coordinator resolved (explained
    or accepted) is left as it is. Takes the municipality's lock."""
    from models.bank_statements import BankLine, BankStatement
    from models.ledger import lock_municipality

    lock_municipality(session, municipality_id)
    explained = select(BankFlag.bank_line_id).where(
        BankFlag.municipality_id == municipality_id, BankFlag.reason == "unmatched",
        BankFlag.resolved_at.is_not(None), BankFlag.bank_line_id.is_not(None))
    lines = list(session.exec(select(BankLine).join(BankStatement, BankStatement.id == BankLine.statement_id).where(
        BankStatement.municipality_id == municipality_id, BankLine.match == "", BankLine.id.not_in(explained))))
    return match_lines(session, lines)


def reconcile(session: Session, municipality_id: int, *, today: date) -> dict:
    """`rematch_unmatched`, then `flag_transfers_not_seen`: what a coordinator's queue does before it shows."""
    counts = rematch_unmatched(session, municipality_id)
    return {"matched": counts.matched, "flagged": counts.flagged,
            "not_seen": flag_transfers_not_seen(session, municipality_id, today)}


# --- the queue and the request page ----------------------------------------------------------------------

@dataclass
class FlagRow:
    """One open flag for the queue: the flag, its line (or the batch line not seen), its team and request."""

    flag: BankFlag
    line: object | None  # BankLine
    batch_line: object | None  # BatchLine, for a transfer not seen
    team_name: str
    request_id: int | None


def open_flags(session: Session, municipality_id: int) -> list[FlagRow]:
    """The municipality's unresolved flags, newest first."""
    from models.bank_statements import BankLine
    from models.batch_lines import BatchLine
    from models.teams import Team

    rows = session.exec(select(BankFlag, BankLine, BatchLine, Team.name)
                        .join(BankLine, BankLine.id == BankFlag.bank_line_id, isouter=True)
                        .join(BatchLine, BatchLine.id == BankFlag.batch_line_id, isouter=True)
                        .join(Team, Team.id == BankFlag.team_id)
                        .where(BankFlag.municipality_id == municipality_id, BankFlag.resolved_at.is_(None))
                        .order_by(BankFlag.created_at.desc(), BankFlag.id.desc())).all()
    return [FlagRow(flag=flag, line=line, batch_line=batch_line, team_name=team_name,
                    request_id=(line.request_id if line is not None else None)
                    or (batch_line.request_id if batch_line is not None else None))
            for flag, line, batch_line, team_name in rows]


def flags_of_line(session: Session, bank_line_id: int) -> list[BankFlag]:
    """Every flag of one line, oldest first."""
    return list(session.exec(select(BankFlag).where(BankFlag.bank_line_id == bank_line_id).order_by(BankFlag.id)))


def bank_lines_of_request(session: Session, request_id: int) -> list:
    """The bank lines matched to the request (its load, spending, return, or linked by hand), by booking date;
    a load the team account and the card account both show is listed once."""
    from models.bank_statements import BankLine

    lines = session.exec(select(BankLine).where(BankLine.request_id == request_id, BankLine.match != "")
                         .order_by(BankLine.booking_date, BankLine.id)).all()
    seen, found = set(), []
    for line in lines:
        if line.batch_line_id is not None:
            if line.batch_line_id in seen:
                continue
            seen.add(line.batch_line_id)
        found.append(line)
    return found
