"""A hundred units to choose from are grouped by organisation: the receiving unit's select in
option groups, the copy units' checkboxes each saying its organisation. Units of one
organisation only stay a plain list."""

import re

import lifecycle_support
from lifecycle_support import FORM_KEY, login_as

from handover.store.database import db
from handover.store.models import Unit
from handover.web.handovers import forms

app_config = lifecycle_support.app_config
world = lifecycle_support.world


def _routing_page(app, client, world):
    login_as(client, app, world.users["sending_sender"])
    page = client.get(f"/handovers/new/{world.units['sending'].id}/{FORM_KEY}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _name_organisations(app, world, organisations):
    with app.app_context():
        for key, organisation in organisations.items():
            db.session.get(Unit, world.units[key].id).organisation = organisation
        db.session.commit()


def test_receivers_of_several_organisations_are_grouped_by_organisation(app, client, world):
    _name_organisations(app, world, {"receiving": "Hyvinvointialue A", "copy": "Kaupunki B",
                                     "other": "Kaupunki B"})
    page = _routing_page(app, client, world)
    select = re.search(r'<select[^>]*name="receiver".*?</select>', page, re.S).group(0)
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups and groups == sorted(groups) and len(groups) == len(set(groups))
    assert "Hyvinvointialue A" in groups
    receiving = world.units["receiving"]
    assert re.search(rf'<optgroup label="Hyvinvointialue A">.*?value="{receiving.id}"',
                     select, re.S)


def test_units_of_one_organisation_stay_a_plain_list(app, client, world):
    page = _routing_page(app, client, world)
    assert "<optgroup" not in page


def test_checkboxes_of_several_organisations_each_say_their_organisation(app):
    units = [Unit(id=1, name="Osasto 3", organisation="Hyvinvointialue A"),
             Unit(id=2, name="Koulu Kivikko", organisation="Kaupunki B"),
             Unit(id=3, name="Päiväkoti Pihla", organisation="Kaupunki B"),
             Unit(id=4, name="Aamu", organisation="")]     # none: last, as it is
    with app.test_request_context():
        labels = [choice.label for choice in forms.unit_choices(units, grouped=False)]
        alone = [choice.label for choice in forms.unit_choices(units[1:3], grouped=False)]
    assert labels == ["Osasto 3 – Hyvinvointialue A", "Koulu Kivikko – Kaupunki B",
                      "Päiväkoti Pihla – Kaupunki B", "Aamu"]
    assert alone == ["Koulu Kivikko", "Päiväkoti Pihla"]


def test_an_organisation_spelt_two_ways_is_one_group(app):
    units = [Unit(id=1, name="A", organisation="HUS"), Unit(id=2, name="B", organisation="Hus"),
             Unit(id=3, name="C", organisation="HUS"), Unit(id=4, name="D", organisation="City")]
    with app.test_request_context():
        groups = [choice.optgroup for choice in forms.unit_choices(units)]
    assert groups == ["City", "HUS", "HUS", "HUS"]
