from __future__ import annotations

import pycountry
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import Length

from qosyl.render import media
from qosyl.web.forms import ImageField
from qosyl.web.forms import strip


def _country_choices() -> list[SelectChoice]:
    countries = sorted(pycountry.countries, key=lambda country: country.name)
    return [SelectChoice("", "Not shown")] + [
        SelectChoice(country.alpha_2, country.name) for country in countries
    ]


class ProfileSetupForm(FlaskForm):
    """The first-run step: a face, a line about yourself, where you are."""

    avatar = ImageField("Avatar", media.AVATAR)
    cover = ImageField("Cover photo", media.COVER)
    bio = StringField(
        "Bio",
        filters=[strip],
        validators=[Length(max=160, message="Use at most 160 characters.")],
        description="One line shown under your name.",
    )
    about = TextAreaField(
        "About",
        filters=[strip],
        validators=[Length(max=2000, message="Use at most 2,000 characters.")],
        description="A few lines about you and what you are into.",
    )
    address = StringField(
        "Address",
        filters=[strip],
        validators=[Length(max=120, message="Use at most 120 characters.")],
        description="A city or region is enough; it is shown on your profile.",
        render_kw={"autocomplete": "address-level2"},
    )
    country = SelectField("Country", choices=_country_choices(), validate_choice=True)

    def profile_fields(self) -> dict[str, str]:
        return {
            name: getattr(self, name).data or "" for name in ("bio", "about", "address", "country")
        }
