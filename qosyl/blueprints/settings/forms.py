"""The forms of the settings pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import Form
from wtforms import FormField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired

from qosyl.actions.accounts import NAME_LENGTH
from qosyl.blueprints.accounts.forms import ResetPasswordForm
from qosyl.blueprints.profiles.forms import ProfileSetupForm
from qosyl.links import MAX_LENGTH as LINK_LENGTH
from qosyl.models.user import SOCIAL_LINKS
from qosyl.notification_kinds import KINDS
from qosyl.reads.insights import time_zones
from qosyl.web.forms import email_field
from qosyl.web.forms import strip


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


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )


class ChangeEmailForm(FlaskForm):
    email = email_field("New email address")
    password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )


class _KindsForm(Form):
    """One checkbox per notification kind, named after the kind."""


for _kind in KINDS.values():
    setattr(_KindsForm, _kind.name, BooleanField(_kind.label))


class NotificationSettingsForm(FlaskForm):
    kinds = FormField(_KindsForm)


class MessageSettingsForm(FlaskForm):
    friends_only = BooleanField("Only my friends can start conversations with me")


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    understood = BooleanField(
        "I understand that my account, posts, comments and messages are deleted for good",
        validators=[DataRequired("Tick the box to confirm.")],
    )


class TimeZoneForm(FlaskForm):
    # The action checks the choice, so a zone this machine does not know gets its message.
    time_zone = SelectField("Time zone", validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = sorted(time_zones())
