"""Every blueprint module's docstring is its URL table, and the table is true to `app.url_map`.

A table line is a method (or `GET/POST`) and a path, indented, e.g.
`  GET  /teams/<team_id>/aanvragen/nieuw   new request form`; `<int:team_id>` is written `<team_id>`
and a query string (`?v=<hash>`) is not part of the path. A module with several blueprints has one
table for all of them. Every rule of a blueprint (each method but HEAD and OPTIONS) must be in its
module's table, and every line of the table must be a rule of one of the module's blueprints.
"""
import re
import sys

import pytest

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
TABLE_LINE = re.compile(rf"^\s+((?:{'|'.join(METHODS)})(?:/(?:{'|'.join(METHODS)}))*)\s+(/\S*)", re.MULTILINE)
CONVERTER = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
#: rules known to be missing from a table while their module is being split (issue 10 §5); each entry
#: must still be missing, so the list shrinks to empty as the new modules get their tables
NOT_YET_LISTED = {}


def table_of(module) -> set[tuple[str, str]]:
    """The (method, path) pairs the module's docstring lists."""
    pairs = set()
    for methods, path in TABLE_LINE.findall(module.__doc__ or ""):
        for method in methods.split("/"):
            pairs.add((method, path.split("?")[0]))
    return pairs


def rules_by_module(app) -> dict[str, set[tuple[str, str]]]:
    """The (method, path) pairs of the app's rules, per module that defines their blueprint."""
    found = {}
    for blueprint in app.blueprints.values():
        found.setdefault(blueprint.import_name, set())
    for rule in app.url_map.iter_rules():
        blueprint_name = rule.endpoint.rpartition(".")[0]
        if not blueprint_name:
            continue  # the app's own /static
        module = app.blueprints[blueprint_name].import_name
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found[module].add((method, CONVERTER.sub(r"<\1>", rule.rule)))
    return found


def test_every_rule_belongs_to_a_blueprint(app):
    assert [rule.rule for rule in app.url_map.iter_rules() if "." not in rule.endpoint] == ["/static/<path:filename>"]


@pytest.fixture
def modules(app):
    """Per blueprint module: the rules the app has and the lines its docstring lists."""
    return {name: (rules, table_of(sys.modules[name])) for name, rules in rules_by_module(app).items()}


def test_every_blueprint_module_has_a_url_table(modules):
    assert [name for name, (_rules, table) in modules.items() if not table] == []


def test_every_rule_is_in_its_module_table(modules):
    missing = {name: rules - table for name, (rules, table) in modules.items() if rules - table}
    assert missing == NOT_YET_LISTED


def test_every_table_line_is_a_rule(modules):
    invented = {name: sorted(table - rules) for name, (rules, table) in modules.items() if table - rules}
    assert invented == {}
