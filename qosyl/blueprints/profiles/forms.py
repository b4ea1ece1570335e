from __future__ import annotations

import pycountry
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import ValidationError

from qosyl.links import LinkError
from qosyl.links import normalise_link
from qosyl.models.user import SOCIAL_LINKS
from qosyl.render import media
from qosyl.web.forms import ImageField
from qosyl.web.forms import strip


def _country_choices() -> list[SelectChoice]:
    countries = sorted(pycountry.countries, key=lambda country: country.name)
    return [SelectChoice("", "Not shown")] + [
        SelectChoice(country.alpha_2, country.name) for country in countries
    ]


def _link_field(name: str, label: str, hosts: tuple[str, ...]) -> StringField:
    def check(form, field):
        try:
            field.data = normalise_link(field.data, label=label, hosts=hosts)
        except LinkError as error:
            raise ValidationError(error.message) from None

    example = f"https://{hosts[0]}/yourname" if hosts else "https://example.com"
    return StringField(
        label,
        filters=[strip],
        validators=[check],
        render_kw={"inputmode": "url", "placeholder": example, "autocomplete": "url"},
    )


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


class ProfileForm(ProfileSetupForm):
    first_name = StringField(
        "First name",
        filters=[strip],
        validators=[DataRequired("Enter your first name."), Length(max=50)],
    )
    last_name = StringField(
        "Last name",
        filters=[strip],
        validators=[DataRequired("Enter your last name."), Length(max=50)],
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
    setattr(ProfileForm, _name, _link_field(_name, _label, _hosts))
