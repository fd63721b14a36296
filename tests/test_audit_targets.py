"""An auditor asks "who changed Kaisa's account?": the audit log shows whom or what each
administrator's and unit lead's event acted on (the account, the role, the plugin, never client
data), the user filter finds the events about a person as well as those by them, and a filter
value the database cannot hold is a message on its field, never an error page."""

import html
import re

import pytest
from lifecycle_support import login_as
from support import create_unit, create_user

from handover.store.database import db
from handover.store.models import User


@pytest.fixture
def people(app):
    """An administrator, a unit lead of Majakka, an auditor (ids), and Kaisa, a receiver."""
    with app.app_context():
        unit = create_unit("Majakka")
        lead = create_user("lead@example.fi", name="Liisa Esihenkilö",
                           memberships=[(unit, "lead")])
        return {"admin": create_user("admin@example.fi", name="Aapo Ylläpitäjä", admin=True).id,
                "lead": lead.id, "unit": unit.id,
                "auditor": create_user("auditor@example.fi", name="Tuula Tarkastaja",
                                       auditor=True).id}


def as_user(app, user_id, language="en"):
    client = login_as(app.test_client(), app, type("Person", (), {"id": user_id}))
    with client.session_transaction() as session:
        session["language"] = language
    return client


def rows(response):
    """The audit table's rows, each as the texts of its cells."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    body = page.split("<tbody", 1)[1].split("</tbody>", 1)[0] if "<tbody" in page else ""
    return [[html.unescape(re.sub(r"<[^>]+>|\s+", " ", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def header(response):
    page = response.get_data(as_text=True)
    return re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', page.split("<thead", 1)[1])


def row_of(table, what):
    found = [row for row in table if what in row]
    assert found, (what, table)
    return found[0]


@pytest.fixture
def kaisas_account_changed(app, people):
    """The administrator creates Kaisa's account, resets her password and later deactivates
    it; the unit lead adds her to Majakka as a receiver; the administrator switches off a
    plugin. Returns Kaisa's id."""
    admin = as_user(app, people["admin"])
    assert admin.post("/admin/users/new", data={
        "email": "kaisa.koskinen@example.fi", "name": "Kaisa Koskinen"}).status_code == 200
    with app.app_context():
        kaisa = db.session.query(User).filter_by(email="kaisa.koskinen@example.fi").one().id
    lead = as_user(app, people["lead"])
    assert lead.post(f"/lead/units/{people['unit']}/members", data={
        "email": "kaisa.koskinen@example.fi", "role": "receiver"}).status_code == 302
    assert admin.post(f"/admin/users/{kaisa}/reset-password", data={}).status_code == 200
    assert admin.post(f"/admin/users/{kaisa}/active", data={"active": "0"}).status_code == 302
    assert admin.post("/admin/plugins/uploaded/disable").status_code == 302
    return kaisa


def test_the_log_says_whom_each_account_event_acted_on(app, people, kaisas_account_changed):
    auditor = as_user(app, people["auditor"])
    response = auditor.get("/audit/")
    assert "Concerning" in header(response)
    table = rows(response)
    kaisa = "Kaisa Koskinen (kaisa.koskinen@example.fi)"
    created = row_of(table, "User created")
    assert created[1] == "Aapo Ylläpitäjä" and f"{kaisa}; System roles: None" in created
    added = row_of(table, "Member added to a unit by the unit lead")
    assert added[1] == "Liisa Esihenkilö" and added[2] == "Majakka"
    assert f"{kaisa}; Role: Receiver" in added
    assert kaisa in row_of(table, "Password reset by an administrator")
    assert kaisa in row_of(table, "User deactivated")
    assert "Plugin: uploaded" in row_of(table, "Plugin switched off")


def test_the_targets_are_in_finnish_for_a_finnish_auditor(app, people, kaisas_account_changed):
    table = rows(as_user(app, people["auditor"], "fi").get("/audit/"))
    added = row_of(table, "Yksikön esihenkilö lisäsi jäsenen yksikköön")
    assert "Kaisa Koskinen (kaisa.koskinen@example.fi); Rooli: Vastaanottaja" in added
    assert "Lisäosa: uploaded" in row_of(table, "Lisäosa poistettu käytöstä")


def test_the_user_filter_finds_events_about_the_person_too(app, people,
                                                          kaisas_account_changed):
    auditor = as_user(app, people["auditor"])
    for words in ("kaisa.koskinen@example.fi", "Kaisa", "koskinen"):
        table = rows(auditor.get(f"/audit/?user={words}"))
        labels = {row[3] for row in table}
        assert {"User created", "Member added to a unit by the unit lead",
                "Password reset by an administrator", "User deactivated"} <= labels, words
        assert "Plugin switched off" not in labels
    table = rows(auditor.get("/audit/?user=aapo"))   # the administrator, by name
    assert "Plugin switched off" in {row[3] for row in table}


def test_another_persons_events_are_not_found_for_kaisa(app, people, kaisas_account_changed):
    """Kaisa is user 4: an event about user 44 is not hers."""
    lookalike = int(str(kaisas_account_changed) * 2)
    with app.app_context():
        while (count := db.session.query(User).count()) < lookalike - 1:
            create_user(f"filler{count}@example.fi", enrolled=False)
        other = create_user("other@example.fi", name="Olli Muu").id
        assert other == lookalike
    admin = as_user(app, people["admin"])
    assert admin.post(f"/admin/users/{other}/active", data={"active": "0"}).status_code == 302
    table = rows(as_user(app, people["auditor"]).get("/audit/?user=kaisa"))
    assert all("Olli Muu" not in " ".join(row) for row in table)
    assert sum(row[3] == "User deactivated" for row in table) == 1


def test_a_childs_report_has_no_column_of_targets(app, people):
    response = as_user(app, people["auditor"]).post("/audit/child-report",
                                                    data={"identity_code": "010594Y9032"})
    assert response.status_code == 200
    assert "Concerning" not in response.get_data(as_text=True)


@pytest.mark.parametrize("query, field, message", [
    ("handover=99999999999999999999", "handover",
     "Enter the number of a handover, for example 1234."),
    ("handover=-3", "handover", "Enter the number of a handover, for example 1234."),
    # Arabic-Indic eight read as handover 8.
    ("handover=%D9%A8", "handover", "Enter the number of a handover, for example 1234."),
    ("since=1.1.0001", "since", "Enter a date from 1.1.1900 to 30.12.9999."),
    ("until=31.12.9999", "until", "Enter a date from 1.1.1900 to 30.12.9999."),
])
def test_a_filter_value_out_of_range_is_a_field_error(app, people, query, field, message):
    response = as_user(app, people["auditor"]).get(f"/audit/?{query}")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'href="#{field}"' in summary and message in summary


def test_a_page_number_out_of_range_is_no_error(app, people, kaisas_account_changed):
    auditor = as_user(app, people["auditor"])
    response = auditor.get("/audit/?page=99999999999999999999")
    assert response.status_code == 200
    # Past the last page: said so, not "No events match." (the events are on page 1).
    assert "There is no page 99999999999999999999" in response.get_data(as_text=True)
    assert rows(auditor.get("/audit/?page=abc"))


def test_an_out_of_range_handover_number_is_finnish_too(app, people):
    response = as_user(app, people["auditor"], "fi").get(
        "/audit/?handover=99999999999999999999")
    assert "Anna tiedonsiirron numero, esimerkiksi 1234." in response.get_data(as_text=True)
