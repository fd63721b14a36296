"""Every audit action the code writes has a plain-words label in fi, sv and en, and an action
nobody labelled (an old one, a plugin's) still reads as words.

The actions are found by reading the code, not by a list kept beside it: every call of the
audit writers (`store.audit.record`, `record_all`, `commit_with_audit`), and of
any function that hands one of its parameters on to them, is followed back to the strings that
reach it. A new ``audit.record("handover.something")`` without a label fails here.
"""

import ast
import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from handover.services import audit_labels

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(path for folder in ("handover", "plugins")
                 for path in ROOT.joinpath(folder).rglob("*.py"))
ACTION = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
#: The functions that write an audit event: (position, keyword) of their action argument.
WRITERS = {name: (0, "action") for name in ("record", "record_all", "commit_with_audit")}
#: Actions built at run time, by their f-string's source, and what they can become. A new
#: f-string action fails the scan until it is listed here (and labelled).
BUILT = {
    "f'{by}.membership_added'": {"admin.membership_added", "unit_lead.membership_added"},
    "f'{by}.membership_removed'": {"admin.membership_removed", "unit_lead.membership_removed"},
    "f'{by}.membership_confirmed'": {"admin.membership_confirmed",
                                     "unit_lead.membership_confirmed"},
    "f'{by}.membership_refused'": {"admin.membership_refused", "unit_lead.membership_refused"},
    "f'delivery.{status}'": {"delivery.delivered", "delivery.failed"},
}


def _functions(tree):
    """Every function in ``tree`` with its parameters: {name: (position or None, default)}."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            positional = [*node.args.posonlyargs, *node.args.args]
            defaults = dict(zip([a.arg for a in positional][-len(node.args.defaults):],
                                node.args.defaults, strict=True)) if node.args.defaults else {}
            defaults.update({a.arg: d for a, d in zip(node.args.kwonlyargs,
                                                      node.args.kw_defaults, strict=True) if d})
            params = {a.arg: (i, defaults.get(a.arg)) for i, a in enumerate(positional)}
            params.update({a.arg: (None, defaults.get(a.arg)) for a in node.args.kwonlyargs})
            yield node, params


def _called_name(call):
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


class Scan:
    """Follows the values reaching the writers' action argument back to string literals."""

    def __init__(self, sources):
        self.trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sources}
        self.writers = dict(WRITERS)   # grows with functions that pass a parameter on
        self.definitions = {}           # name -> [(function, params, path)], for returned actions
        for path, tree in self.trees.items():
            for function, params in _functions(tree):
                self.definitions.setdefault(function.name, []).append((function, params, path))
        self.found, self.unresolved = set(), []

    def run(self):
        known = None
        while known != self.writers:   # until no new pass-through function turns up
            known = dict(self.writers)
            self.found, self.unresolved = set(), []
            for path, tree in self.trees.items():
                for function, params in _functions(tree):
                    for call in ast.walk(function):
                        if isinstance(call, ast.Call) and _called_name(call) in self.writers:
                            self._collect(self._argument(call), function, params, path)
        return self.found

    def _argument(self, call):
        position, keyword = self.writers[_called_name(call)]
        if position is not None and len(call.args) > position and not isinstance(
                call.args[position], ast.Starred):
            return call.args[position]
        return next((k.value for k in call.keywords if k.arg == keyword), None)

    def _collect(self, node, function, params, path, seen=frozenset()):
        if node is None:
            return
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and ACTION.match(node.value):
                self.found.add(node.value)
        elif isinstance(node, ast.JoinedStr):
            source = ast.unparse(node)
            if source in BUILT:
                self.found |= BUILT[source]
            else:
                self.unresolved.append(f"{path.name}: {source}")
        elif isinstance(node, ast.Name) and node.id not in seen:
            self._resolve(node.id, function, params, path, seen | {node.id})
        elif isinstance(node, ast.Call) and ("()", _called_name(node)) not in seen:
            for callee, callee_params, callee_path in self.definitions.get(_called_name(node), ()):
                for returned in ast.walk(callee):   # an action a helper returns
                    if isinstance(returned, ast.Return):
                        self._collect(returned.value, callee, callee_params, callee_path,
                                      seen | {("()", _called_name(node))})
        elif isinstance(node, ast.Tuple) and node.elts:   # record_all's (action, handover id)
            self._collect(node.elts[0], function, params, path, seen)
        else:
            parts = {ast.IfExp: ("body", "orelse"), ast.BoolOp: ("values",),
                     ast.List: ("elts",), ast.Starred: ("value",), ast.ListComp: ("elt",)}
            for part in parts.get(type(node), ()):
                value = getattr(node, part)
                for child in value if isinstance(value, list) else [value]:
                    self._collect(child, function, params, path, seen)

    def _resolve(self, name, function, params, path, seen):
        """A name's values: what the function assigns to it, and, for a parameter, its default
        and what every caller passes (the function becomes a writer)."""
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in node.targets):
                self._collect(node.value, function, params, path, seen)
        if name in params:
            position, default = params[name]
            self._collect(default, function, params, path, seen)
            if function.name not in self.writers:
                self.writers[function.name] = (position, name)


@pytest.fixture(scope="module")
def written():
    scan = Scan(SOURCES)
    found = scan.run()
    assert not scan.unresolved, f"actions built at run time, not listed in BUILT: {scan.unresolved}"
    return found


def test_the_scan_finds_the_actions_written_directly_and_through_helpers(written):
    """The scan itself can fail: it finds literal actions, ones chosen by a condition, ones
    handed through a parameter (write_switch, record_view) and the f-string ones."""
    assert {"handover.draft_saved", "handover.sent", "auth.login_failed",   # literal
            "admin.unit_deactivated", "handover.opened",                     # by a condition
            "plugins.enabled", "handover.printed", "handover.viewed",        # through a parameter
            "unit_lead.membership_added", "delivery.failed"} <= written      # built
    assert len(written) >= 60


def test_every_action_the_code_writes_has_a_label(written):
    missing = sorted(written - audit_labels.LABELS.keys())
    assert not missing, f"audit actions without a label in services/audit_labels.py: {missing}"


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_label_is_translated(app, language):
    with app.test_request_context(), force_locale("en"):
        english = {action: str(text) for action, text in audit_labels.LABELS.items()}
        outcomes_en = {outcome: str(text) for outcome, text in audit_labels.OUTCOMES.items()}
    with app.test_request_context(), force_locale(language):
        untranslated = [english[action] for action in english
                        if audit_labels.label(action) == english[action]]
        untranslated += [words for outcome, words in outcomes_en.items()
                         if audit_labels.outcome_label(outcome) == words]
    assert untranslated == []


def test_the_draft_saved_event_in_each_language(app):
    expected = {"fi": "Luonnos tallennettu", "sv": "Utkast sparat", "en": "Draft saved"}
    with app.test_request_context():
        for language, words in expected.items():
            with force_locale(language):
                assert audit_labels.label("handover.draft_saved") == words


@pytest.mark.parametrize(("action", "words"), [
    ("handover.something_old", "Something old (handover)"),
    ("legacy_event", "Legacy event"),
    ("plugin_x.did.thing", "Did thing (plugin x)"),
    ("", "—"),
])
def test_an_unknown_action_reads_as_words(action, words):
    assert audit_labels.label(action) == words
