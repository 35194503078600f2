"""The signing form's country <select>, rendered from cached options."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms.widgets import Select

from petitions.signing.forms import SignatureForm


@pytest.mark.parametrize("posted", [None, "FR", "", "ZZ", '<b>"x"</b>'])
def test_the_country_select_is_what_wtforms_would_render(app, posted):
    """Same bytes as WTForms' own Select, the chosen country (or none) selected, anything
    posted escaped; twice, so that the second comes from the cache."""
    with app.test_request_context("/"):
        form = SignatureForm(formdata=None if posted is None
                             else MultiDict({"country": posted}))
        for attributes in ({"autocomplete": "country"},
                           {"aria-invalid": "true", "aria-describedby": "country-error"}):
            for _ in range(2):
                assert form.country(**attributes) == Select()(form.country, **attributes)
        chosen = "US" if posted is None else posted
        known = chosen in {code for code, _ in form.country.choices}
        assert (f'<option selected value="{chosen}">' in form.country()) == known
