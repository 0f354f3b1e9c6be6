"""A municipality's catalogue: its cost categories (kostensoorten) and other provisions (voorliggende
voorzieningen), which coordinators keep up to date.

Invariants:
- Nothing here is ever deleted: a cost category or a provision is archived (`active` False) and can be
  brought back. Requests keep the category and the provision names they stored, whatever happens later.
- A cost category's `code` is made once from its name, is unique in the municipality and never changes
  (reports and the default provisions know categories by it); its Dutch and English names are each
  unique in the municipality (archived ones included), one line, at most 100 characters.
- The municipality keeps at least one active cost category, so a request can always be made.
- Positions order the categories 0, 1, 2 … (renumbered by every move).
- A provision's name is unique in the municipality (at most 100 characters), its description one line of
  at most 200, its link empty or an https:// address with a host (at most 300). A provision linked to no
  cost category fits every category.
- Names, descriptions and links never hold control, format or private-use characters (invisible text
  that would make two names look alike).
- Every change a coordinator makes here is an audit event of the municipality (models.audit
  `record_in_municipality`, in its hash chain): what changed, with the names before and after. The
  defaults a new municipality starts with are not changes and are not recorded.
"""
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, or_
from sqlmodel import Session, func, select

from models.audit import EVENT_LABELS, changed_fields, record_in_municipality
from models.rules import RuleViolation
from models.teams import CostCategory, Municipality, Provision, ProvisionCategory

NAME_MAX = 100
DESCRIPTION_MAX = 200
LINK_MAX = 300
CODE_MAX = 40

#: The other provisions every new municipality starts with, as (name, codes of the cost categories it fits).
#: The same list as the one migration 0010 gave every existing municipality (tests/unit/test_catalogue.py).
DEFAULT_PROVISIONS = [
    ("Voedselbank", ("groceries",)),
    ("Bijzondere bijstand", ("groceries", "housing", "energy", "transport", "medical", "clothing", "furnishing",
                             "fees", "other")),
    ("Voorschot uitkering", ("groceries",)),
    ("Noodfonds (kerk, moskee)", ("groceries",)),
    ("Huurtoeslag", ("housing",)),
    ("Schuldhulpverlening", ("housing",)),
    ("Betalingsregeling verhuurder", ("housing",)),
    ("Energietoeslag", ("energy",)),
    ("Energiefonds", ("energy",)),
    ("Betalingsregeling leverancier", ("energy",)),
    ("Stadspas", ("transport", "clothing")),
    ("Reiskostenvergoeding werkgever", ("transport",)),
    ("Zorgverzekering", ("medical",)),
    ("Aanvullende verzekering", ("medical",)),
    ("Zorgtoeslag", ("medical",)),
    ("Kledingbank", ("clothing",)),
    ("Scholierenvergoeding", ("children",)),
    ("Jeugdfonds Sport & Cultuur", ("children",)),
    ("Stichting Leergeld", ("children",)),
    ("Kindgebonden budget", ("children",)),
    ("Kringloop", ("furnishing",)),
    ("Inrichtingskrediet", ("furnishing",)),
    ("Kwijtschelding", ("fees",)),
    ("Toevoeging rechtsbijstand", ("fees",)),
    ("Fonds (particulier)", ("other",)),
]

EVENT_LABELS.update({
    "category_added": _l("soort uitgave toegevoegd"), "category_renamed": _l("soort uitgave hernoemd"),
    "category_moved": _l("soort uitgave verplaatst"), "category_archived": _l("soort uitgave gearchiveerd"),
    "category_restored": _l("soort uitgave weer in gebruik"),
    "provision_added": _l("voorliggende voorziening toegevoegd"),
    "provision_changed": _l("voorliggende voorziening gewijzigd"),
    "provision_archived": _l("voorliggende voorziening gearchiveerd"),
    "provision_restored": _l("voorliggende voorziening weer in gebruik")})

_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")


def default_provision_names(code: str) -> list[str]:
    """The default provisions that fit the cost category with this code, in their order."""
    return [name for name, codes in DEFAULT_PROVISIONS if code in codes]


# --- reading ---

def cost_categories_of(session: Session, municipality_id: int) -> list[CostCategory]:
    """Every cost category of the municipality, archived ones too, in their order."""
    return list(session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality_id)
                             .order_by(CostCategory.position, CostCategory.id)))


@dataclass
class ProvisionRow:
    """A provision with the ids of the cost categories it is linked to (none: it fits every one)."""
    provision: Provision
    category_ids: set[int]


def provisions_of(session: Session, municipality_id: int) -> list[ProvisionRow]:
    """Every provision of the municipality with its categories, active ones first (two queries)."""
    provisions = list(session.exec(select(Provision).where(Provision.municipality_id == municipality_id)
                                   .order_by(Provision.active.desc(), Provision.position, Provision.name)))
    links = session.exec(select(ProvisionCategory).join(Provision, Provision.id == ProvisionCategory.provision_id)
                         .where(Provision.municipality_id == municipality_id)).all()
    by_provision = {}
    for link in links:
        by_provision.setdefault(link.provision_id, set()).add(link.cost_category_id)
    return [ProvisionRow(provision, by_provision.get(provision.id, set())) for provision in provisions]


def categories_of_provision(session: Session, provision: Provision) -> set[int]:
    """The ids of the cost categories a provision is linked to (none: it fits every one)."""
    return set(session.exec(select(ProvisionCategory.cost_category_id)
                            .where(ProvisionCategory.provision_id == provision.id)).all())


def provisions_for_category(session: Session, category: CostCategory | None) -> list[Provision]:
    """The active provisions a request of `category` is offered, in their order (one query; no category: none)."""
    if category is None:
        return []
    linked = select(ProvisionCategory.provision_id).where(ProvisionCategory.provision_id == Provision.id)
    return list(session.exec(select(Provision).where(
        Provision.municipality_id == category.municipality_id, Provision.active,
        or_(exists(linked.where(ProvisionCategory.cost_category_id == category.id)), ~exists(linked)))
        .order_by(Provision.position, Provision.name)))


def provisions_by_category(session: Session, categories: list[CostCategory]) -> dict[int, list[Provision]]:
    """`provisions_for_category` of each of `categories` (of one municipality), read in two queries: the
    request form carries them all, so it works offline whatever category is chosen."""
    if not categories:
        return {}
    provisions = list(session.exec(select(Provision).where(
        Provision.municipality_id == categories[0].municipality_id, Provision.active)
        .order_by(Provision.position, Provision.name)))
    links: dict[int, set[int]] = {}
    for provision_id, category_id in session.exec(select(ProvisionCategory.provision_id, ProvisionCategory.cost_category_id)
                                                  .where(ProvisionCategory.provision_id.in_([p.id for p in provisions]))):
        links.setdefault(provision_id, set()).add(category_id)
    return {category.id: [p for p in provisions if p.id not in links or category.id in links[p.id]]
            for category in categories}


def canonical_provision_name(session: Session, municipality_id: int, name: str) -> str:
    """`name` as the municipality's provision of that name writes it (case aside), else `name` itself."""
    folded = name.casefold()
    names = session.exec(select(Provision.name).where(Provision.municipality_id == municipality_id)).all()
    return next((known for known in names if known.casefold() == folded), name)


# --- checking what was typed ---

def _one_line(raw, field: str, limit: int, *, required: bool) -> str:
    """Typed text as one line (runs of white space become one space), checked."""
    value = str(raw or "")
    if any(unicodedata.category(character) in _INVISIBLE for character in value if character not in "\t\n\r"):
        raise RuleViolation(_l("Gebruik geen onzichtbare tekens of stuurtekens."), field=field)
    value = " ".join(value.split())
    if required and not value:
        raise RuleViolation(_l("Vul een naam in."), field=field)
    if len(value) > limit:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=limit), field=field)
    return value


def check_link(raw, field: str = "link") -> str:
    """An https:// address with a host, or "" (nothing typed); anything else is refused."""
    value = str(raw or "").strip()
    if not value:
        return ""
    if len(value) > LINK_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=LINK_MAX), field=field)
    if not value.lower().startswith("https://"):
        raise RuleViolation(_l("Gebruik een link die begint met https://."), field=field)
    if any(character.isspace() or unicodedata.category(character) in _INVISIBLE or character == "\\"
           for character in value):
        raise RuleViolation(_l("Dit is geen geldige link."), field=field)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a port that is no number raises here)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise RuleViolation(_l("Dit is geen geldige link."), field=field) from None
    if parts.scheme != "https" or "@" in parts.netloc or not _HOST.match(host):
        raise RuleViolation(_l("Dit is geen geldige link."), field=field)
    return value


def _unique(value: str, others, field: str) -> None:
    if any(value.casefold() == other.casefold() for other in others):
        raise RuleViolation(_l("Deze naam is al in gebruik (ook gearchiveerde tellen mee)."), field=field)


# --- cost categories ---

def _category_names(session: Session, category: CostCategory | None, municipality_id: int, name_nl, name_en):
    """The checked Dutch and English names (English empty: the Dutch one), unique in the municipality."""
    name_nl = _one_line(name_nl, "name_nl", NAME_MAX, required=True)
    name_en = _one_line(name_en, "name_en", NAME_MAX, required=False) or name_nl
    others = [c for c in cost_categories_of(session, municipality_id) if category is None or c.id != category.id]
    _unique(name_nl, [c.name_nl for c in others], "name_nl")
    _unique(name_en, [c.name_en for c in others], "name_en")
    return name_nl, name_en, others


def _code_for(name: str, taken: set[str]) -> str:
    """A code made of the name's letters and digits (ASCII, lower case), not yet taken."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")[:CODE_MAX - 4] or "category"
    code, number = base, 2
    while code in taken:
        code, number = f"{base}_{number}", number + 1
    return code


def _record_category(session: Session, category: CostCategory, action: str, actor_id, **detail) -> None:
    record_in_municipality(session, municipality_id=category.municipality_id, action=action, actor_id=actor_id,
                           category_id=category.id, name_nl=category.name_nl, name_en=category.name_en, **detail)


def add_cost_category(session: Session, municipality_id: int, name_nl, name_en, *,
                      actor_id: int | None = None) -> CostCategory:
    """A new, active cost category at the end of the list; its code is made from its (English) name."""
    name_nl, name_en, others = _category_names(session, None, municipality_id, name_nl, name_en)
    category = CostCategory(municipality_id=municipality_id, code=_code_for(name_en, {c.code for c in others}),
                            name_nl=name_nl, name_en=name_en,
                            position=max((c.position for c in others), default=-1) + 1)
    session.add(category)
    session.flush()
    _record_category(session, category, "category_added", actor_id, code=category.code)
    return category


def rename_cost_category(session: Session, category: CostCategory, name_nl, name_en, *,
                         actor_id: int | None = None) -> None:
    """New names in both languages (the code stays; requests show the new names)."""
    name_nl, name_en, _others = _category_names(session, category, category.municipality_id, name_nl, name_en)
    changed = changed_fields(category, {"name_nl": name_nl, "name_en": name_en})
    category.name_nl, category.name_en = name_nl, name_en
    session.add(category)
    if changed:
        _record_category(session, category, "category_renamed", actor_id, changed=changed)


def set_cost_category_active(session: Session, category: CostCategory, active: bool, *,
                             actor_id: int | None = None) -> None:
    """Archive (no new requests of it; its requests keep it) or bring back; the last active one stays."""
    if not active and category.active:
        still_active = session.exec(select(func.count(CostCategory.id)).where(
            CostCategory.municipality_id == category.municipality_id, CostCategory.active)).one()
        if still_active <= 1:
            raise RuleViolation(_l("Er moet minstens één soort uitgave in gebruik blijven."), field="active")
    if category.active != active:
        _record_category(session, category, "category_restored" if active else "category_archived", actor_id)
    category.active = active
    session.add(category)


def move_cost_category(session: Session, category: CostCategory, *, by: int = 0, to: int | None = None,
                       actor_id: int | None = None) -> None:
    """Move a category `by` places (-1: up) or `to` a place (1 = first); the others close up."""
    ordered = cost_categories_of(session, category.municipality_id)
    index = next(i for i, c in enumerate(ordered) if c.id == category.id)
    target = (to - 1) if to is not None else index + by
    if not 0 <= target < len(ordered):
        if to is not None:
            raise RuleViolation(_l("Vul een getal van %(min)s tot en met %(max)s in.", min=1, max=len(ordered)),
                                field="position")
        return  # up from the top or down from the bottom: it stays
    ordered.insert(target, ordered.pop(index))
    for position, each in enumerate(ordered):
        if each.position != position:
            each.position = position
            session.add(each)
    if target != index:  # places counted from 1, as the page shows them
        _record_category(session, category, "category_moved", actor_id,
                         changed={"position": {"old": index + 1, "new": target + 1}})


# --- other provisions ---

@dataclass
class ProvisionInput:
    """What a coordinator typed about a provision, before any checking."""
    name: str = ""
    description: str = ""
    link: str = ""
    category_ids: tuple | list = ()


def _checked_provision(session: Session, municipality_id: int, data: ProvisionInput,
                       provision: Provision | None) -> tuple[str, str, str, set[int]]:
    from models.bounds import parse_id

    name = _one_line(data.name, "name", NAME_MAX, required=True)
    others = session.exec(select(Provision.name).where(Provision.municipality_id == municipality_id,
                                                       Provision.id != (provision.id if provision else -1))).all()
    _unique(name, others, "name")
    description = _one_line(data.description, "description", DESCRIPTION_MAX, required=False)
    link = check_link(data.link)
    wanted = {parse_id(raw) for raw in data.category_ids}
    known = {c.id for c in cost_categories_of(session, municipality_id)}
    if not wanted <= known:
        raise RuleViolation(_l("Kies soorten uitgaven uit de lijst."), field="category_ids")
    return name, description, link, wanted


def _link_categories(session: Session, provision: Provision, category_ids: set[int]) -> None:
    session.execute(delete(ProvisionCategory).where(ProvisionCategory.provision_id == provision.id))
    session.add_all(ProvisionCategory(provision_id=provision.id, cost_category_id=category_id)
                    for category_id in sorted(category_ids))


def _record_provision(session: Session, provision: Provision, action: str, actor_id, **detail) -> None:
    record_in_municipality(session, municipality_id=provision.municipality_id, action=action, actor_id=actor_id,
                           provision_id=provision.id, name=provision.name, **detail)


def add_provision(session: Session, municipality_id: int, data: ProvisionInput, *,
                  actor_id: int | None = None) -> Provision:
    """A new, active provision at the end of the list, fitting the chosen categories (none: every one)."""
    name, description, link, category_ids = _checked_provision(session, municipality_id, data, None)
    last = session.exec(select(func.max(Provision.position)).where(Provision.municipality_id == municipality_id)).one()
    provision = Provision(municipality_id=municipality_id, name=name, description=description, link=link,
                          position=(last if last is not None else -1) + 1)
    session.add(provision)
    session.flush()
    _link_categories(session, provision, category_ids)
    session.flush()
    _record_provision(session, provision, "provision_added", actor_id)
    return provision


def edit_provision(session: Session, provision: Provision, data: ProvisionInput, *,
                   actor_id: int | None = None) -> None:
    """Change a provision's name, description, link and categories (requests keep the name they stored)."""
    name, description, link, category_ids = _checked_provision(session, provision.municipality_id, data, provision)
    changed = changed_fields(provision, {"name": name, "description": description, "link": link})
    before = categories_of_provision(session, provision)
    if before != category_ids:
        changed["categories"] = {"old": sorted(before), "new": sorted(category_ids)}
    provision.name, provision.description, provision.link = name, description, link
    session.add(provision)
    _link_categories(session, provision, category_ids)
    session.flush()
    if changed:
        _record_provision(session, provision, "provision_changed", actor_id, changed=changed)


def set_provision_active(session: Session, provision: Provision, active: bool, *,
                         actor_id: int | None = None) -> None:
    """Archive a provision (no longer offered; requests and votes keep its name) or bring it back."""
    if provision.active != active:
        _record_provision(session, provision, "provision_restored" if active else "provision_archived", actor_id)
    provision.active = active
    session.add(provision)


def add_default_provisions(session: Session, municipality: Municipality) -> None:
    """Give a municipality DEFAULT_PROVISIONS as rows it can edit, linked to its categories by code."""
    session.flush()  # its cost categories, when they were just added
    by_code = {c.code: c.id for c in cost_categories_of(session, municipality.id)}
    # a provision none of whose categories is here is left out: linked to none, it would fit every one
    wanted = [(name, {by_code[code] for code in codes if code in by_code}) for name, codes in DEFAULT_PROVISIONS]
    wanted = [(name, category_ids) for name, category_ids in wanted if category_ids]
    provisions = [Provision(municipality_id=municipality.id, name=name, position=position)
                  for position, (name, _ids) in enumerate(wanted)]
    session.add_all(provisions)
    session.flush()
    session.add_all(ProvisionCategory(provision_id=provision.id, cost_category_id=category_id)
                    for provision, (_name, category_ids) in zip(provisions, wanted)
                    for category_id in sorted(category_ids))
    session.flush()
