from __future__ import annotations

import pycountry
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from qosyl.actions.accounts import NAME_LENGTH
from qosyl.actions.profiles import TEXT_LENGTHS
from qosyl.links import MAX_LENGTH as LINK_LENGTH
from qosyl.models.user import SOCIAL_LINKS
from qosyl.web.forms import ImageField
from qosyl.web.forms import strip


def _country_choices() -> list[SelectChoice]:
    countries = sorted(pycountry.countries, key=lambda country: country.name)
    return [SelectChoice("", "Not shown")] + [
        SelectChoice(country.alpha_2, country.name) for country in countries
    ]


def _link_field(label: str, hosts: tuple[str, ...]) -> StringField:
    """A link to a profile elsewhere; profiles.update_profile checks its host."""
    example = f"https://{hosts[0]}/yourname" if hosts else "https://example.com"
    return StringField(
        label,
        filters=[strip],
        render_kw={
            "inputmode": "url",
            "placeholder": example,
            "autocomplete": "url",
            "maxlength": LINK_LENGTH,
        },
    )


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


class ProfileForm(ProfileSetupForm):
    first_name = StringField(
        "First name",
        filters=[strip],
        validators=[DataRequired("Enter your first name.")],
        render_kw={"maxlength": NAME_LENGTH},
    )
    last_name = StringField(
        "Last name",
        filters=[strip],
        validators=[DataRequired("Enter your last name.")],
        render_kw={"maxlength": NAME_LENGTH},
    )
    remove_avatar = BooleanField("Remove avatar")
    remove_cover = BooleanField("Remove cover photo")

    def profile_fields(self) -> dict[str, str]:
        fields = super().profile_fields()
        fields["first_name"] = self.first_name.data
        fields["last_name"] = self.last_name.data
        for name, _, _ in SOCIAL_LINKS:
            fields[name] = getattr(self, name).data or ""
        return fields


for _name, _label, _hosts in SOCIAL_LINKS:
    setattr(ProfileForm, _name, _link_field(_label, _hosts))
