"""docs/domain.md stays true to the code: its settings table, the modules and the names it cites exist.

The prose is checked by reading it; this catches what drifts silently when code moves or a default changes.
"""
import importlib
import pkgutil
import re
from enum import Enum
from pathlib import Path

import models
from models.money import MAX_AMOUNT_CENTS
from models.teams import TEAM_SETTINGS, Team

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "domain.md").read_text()
#: names the document cites that are not in models/ (configuration, commands)
NOT_IN_MODELS = {"HOUSEHOLD_KEY_SECRET"}
IDENTIFIER = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?$")


def model_modules():
    """Every module of models/ but the Alembic scripts, imported."""
    return [importlib.import_module(info.name) for info in pkgutil.walk_packages(models.__path__, "models.")
            if not info.name.startswith("models.migrations")]


def known_names() -> set[str]:
    """What a name in backticks may be: a module-level name of models/, an attribute of one of its classes
    (a column, a property, an enum member, written Class.name or alone), or the value of an enum member."""
    names = set()
    for module in model_modules():
        for name, value in vars(module).items():
            names.add(name)
            if isinstance(value, type) and value.__module__ == module.__name__:
                attributes = set(dir(value)) | set(getattr(value, "model_fields", {}))
                names |= attributes | {f"{name}.{attribute}" for attribute in attributes}
                if issubclass(value, Enum):
                    names |= {str(member.value) for member in value}
    return names


def test_settings_table_is_the_code():
    rows = re.findall(r"^\| `(\w+)` \| ([\d,]+)[^|]*\| ([\d,]+) – ([\d,]+|`\w+`)", DOC, re.MULTILINE)
    number = lambda text: int(text.replace(",", ""))  # noqa: E731
    maximum = {"`MAX_AMOUNT_CENTS`": MAX_AMOUNT_CENTS}
    documented = {name: (number(default), (number(low), maximum.get(high) or number(high)))
                  for name, default, low, high in rows}
    assert documented == {name: (Team.model_fields[name].default, bounds) for name, bounds in TEAM_SETTINGS.items()}


def test_max_amount_is_the_code():
    assert f"`MAX_AMOUNT_CENTS` (`models/money.py`) is {MAX_AMOUNT_CENTS:,} cents" in DOC


def test_every_cited_module_exists():
    cited = set(re.findall(r"`(models/\w+\.py)`", DOC))
    assert cited and [path for path in sorted(cited) if not (ROOT / path).is_file()] == []


def test_every_cited_name_exists():
    cited = {token for token in re.findall(r"`([^`]+)`", DOC) if IDENTIFIER.match(token)}
    assert sorted(cited - known_names() - NOT_IN_MODELS) == []
