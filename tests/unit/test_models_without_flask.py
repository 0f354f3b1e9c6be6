"""The domain in models/ stands on its own: every module imports, and its pure rules run, without a Flask app.

So a rule can be unit-tested with nothing but a database session (or nothing at all), and models/ never
reaches into a request: no `flask` import (current_app, request, g, session, url_for), no `web` import.
Allowed from the Flask world: flask_babel's `lazy_gettext` (a message is translated when it is shown, and
reads as Dutch without an app) and flask_login's `UserMixin` (plain methods on Member).
"""
import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import models

ROOT = Path(__file__).resolve().parents[2]
#: what a module of models/ may import from these packages (an empty set: nothing)
ALLOWED_FROM = {
    "flask": set(),
    "flask_babel": {"lazy_gettext"},
    "flask_login": {"UserMixin"},
    "flask_wtf": set(),
    "werkzeug": set(),
    "web": set(),
}


def model_modules() -> list[str]:
    """Every module of the models package but the Alembic scripts."""
    return sorted(info.name for info in pkgutil.walk_packages(models.__path__, "models.")
                  if not info.name.startswith("models.migrations"))


def source_of(name: str) -> Path:
    """The file of a module of models/ (a package's __init__.py)."""
    path = ROOT.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def forbidden_imports(name: str) -> list[str]:
    """The imports of a module, anywhere in it (lazy ones in functions too), that reach into a Flask app."""
    found = []
    for node in ast.walk(ast.parse(source_of(name).read_text(), str(source_of(name)))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in ALLOWED_FROM]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] in ALLOWED_FROM:
            allowed = ALLOWED_FROM[node.module.split(".")[0]] if "." not in node.module else set()
            found += [f"{node.module}.{alias.name}" for alias in node.names if alias.name not in allowed]
    return found


def test_models_package_is_walked():
    assert {"models.money", "models.ledger", "models.cards"} <= set(model_modules())


@pytest.mark.parametrize("name", model_modules())
def test_model_module_imports_nothing_of_a_flask_app(name):
    assert forbidden_imports(name) == []


# Run in a fresh interpreter: the test session has imported web/ and made apps already.
PROBE = """
import importlib, json, sys
names = json.loads(sys.argv[1])
for name in names:
    importlib.import_module(name)
from models.rules import RuleViolation
from models.money import parse_amount
from models.privacy import check_no_personal_data, find_personal_data
from models.members import clean_display_name
from models.requests import household_key

def refusal(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except RuleViolation as error:
        return str(error.message)
    return None

print(json.dumps({
    "web_loaded": sorted(m for m in sys.modules if m == "web" or m.startswith("web.")),
    "amount": parse_amount("€ 1.250,50"),
    "amount_refused": refusal(parse_amount, "-5"),
    "personal_data": [f.kind for f in find_personal_data("bel 06-12345678 of mail a@b.nl")],
    "personal_data_refused": refusal(check_no_personal_data, "bel 06-12345678", field="situation"),
    "name_refused": refusal(clean_display_name, "   "),
    "same_household": household_key("s", "ab 12") == household_key("s", "AB12"),
}))
"""


def test_models_import_and_pure_rules_run_without_an_app():
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(model_modules())], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "web_loaded": [],
        "amount": 125_050,
        "amount_refused": "Het bedrag moet groter zijn dan nul.",
        "personal_data": ["phone", "email"],
        "personal_data_refused": "Haal persoonsgegevens weg: ‘06-12345678’ lijkt een telefoonnummer. Beschrijf de "
                                 "situatie zonder gegevens waarmee iemand de cliënt kan herkennen.",
        "name_refused": "Vul een naam in.",
        "same_household": True,
    }
