from __future__ import annotations

import pycountry
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField

from qosyl.actions.profiles import TEXT_LENGTHS
from qosyl.web.forms import ImageField
from qosyl.web.forms import strip


def _country_choices() -> list[SelectChoice]:
    countries = sorted(pycountry.countries, key=lambda country: country.name)
    return [SelectChoice("", "Not shown")] + [
        SelectChoice(country.alpha_2, country.name) for country in countries
    ]


class ProfileSetupForm(FlaskForm):
    """The first-run step: a face, a line about yourself, where you are. The values and
    images are checked by profiles.update_profile."""

    avatar = ImageField("Avatar")
    cover = ImageField("Cover photo")
    bio = StringField(
        "Bio",
        filters=[strip],
        description="One line shown under your name.",
        render_kw={"maxlength": TEXT_LENGTHS["bio"]},
    )
    about = TextAreaField(
        "About",
        filters=[strip],
        description="A few lines about you and what you are into.",
        render_kw={"maxlength": TEXT_LENGTHS["about"]},
    )
    address = StringField(
        "Address",
        filters=[strip],
        description="A city or region is enough; it is shown on your profile.",
        render_kw={"autocomplete": "address-level2", "maxlength": TEXT_LENGTHS["address"]},
    )
    country = SelectField("Country", choices=_country_choices(), validate_choice=True)

    def profile_fields(self) -> dict[str, str]:
        return {
            name: getattr(self, name).data or "" for name in ("bio", "about", "address", "country")
        }
