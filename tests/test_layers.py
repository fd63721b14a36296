"""The services and the form definitions know no HTTP: they take plain arguments and raise
domain exceptions, so the web views, the CLI and a later JSON API can all call them. The
import-linter contracts in pyproject.toml keep `handover.web` out of them; this keeps Flask's
request objects and Werkzeug's HTTP exceptions out, which a package contract cannot express."""

import ast
from pathlib import Path

import pytest

import handover

#: What only a view may touch: the request, the cookie session, the request's `g`, and answers.
HTTP_NAMES = {"request", "session", "g", "abort", "redirect", "url_for", "make_response"}

PACKAGE = Path(handover.__file__).parent
MODULES = sorted(path for layer in ("services", "formdefs")
                 for path in (PACKAGE / layer).rglob("*.py"))


def http_imports(source):
    """(line, what) of every HTTP object the module imports or reaches through `flask.`."""
    found = []
    flask_aliases = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "werkzeug.exceptions" or node.module.startswith(
                    "werkzeug.exceptions."):
                found += [(node.lineno, f"werkzeug.exceptions.{a.name}") for a in node.names]
            elif node.module == "werkzeug":
                found += [(node.lineno, f"werkzeug.{a.name}") for a in node.names
                          if a.name == "exceptions"]
            elif node.module == "flask" or node.module.startswith("flask."):
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                          if a.name in HTTP_NAMES]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("werkzeug.exceptions"):
                    found.append((node.lineno, alias.name))
                elif alias.name == "flask":
                    flask_aliases.add(alias.asname or "flask")
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr in HTTP_NAMES
                and isinstance(node.value, ast.Name) and node.value.id in flask_aliases):
            found.append((node.lineno, f"flask.{node.attr}"))
    return found


def test_the_check_finds_what_it_looks_for():
    source = ("from flask import current_app, request as r\n"
              "from werkzeug.exceptions import NotFound\n"
              "import flask\n"
              "flask.abort(404)\n")
    assert [what for _line, what in http_imports(source)] == [
        "flask.request", "werkzeug.exceptions.NotFound", "flask.abort"]


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_module_imports_no_http_objects(path):
    assert http_imports(path.read_text(encoding="utf-8")) == []
