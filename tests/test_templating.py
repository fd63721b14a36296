"""Template globals keep Jinja's behaviour with their faster key list: a template sees the
environment's globals and its own, its own win, and an imported macro module sees globals added
after the environment was made."""

from handover.templating import HandoverEnvironment, TemplateGlobals


def test_a_template_globals_key_list_holds_its_own_and_the_environments(app):
    environment = app.jinja_env
    assert isinstance(environment, HandoverEnvironment)
    environment.globals["shared"] = "environment"
    template_globals = environment.make_globals({"own": 1, "shared": "template"})
    assert isinstance(template_globals, TemplateGlobals)
    assert {"own", "shared", "range"} <= set(template_globals.keys())
    assert template_globals["shared"] == "template"
    assert set(environment.make_globals(None).keys()) == set(environment.globals)
    del environment.globals["shared"]


def test_imports_see_globals_added_later(app):
    environment = app.jinja_env
    environment.globals["late_helper"] = lambda: "late"
    try:
        with app.test_request_context("/"):
            rendered = environment.from_string(
                '{% from "macros/forms.html" import field %}{{ late_helper() }}').render()
        assert rendered == "late"
        # The keys view is a snapshot: the environment's later globals show in a new one.
        assert "late_helper" in environment.make_globals(None).keys()
    finally:
        del environment.globals["late_helper"]
