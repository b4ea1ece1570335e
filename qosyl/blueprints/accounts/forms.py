from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Regexp
from wtforms.validators import ValidationError

from qosyl.actions.accounts import email_in_use
from qosyl.actions.accounts import user_by_username
from qosyl.web.forms import check_new_password
from qosyl.web.forms import email_field
from qosyl.web.forms import new_password_fields
from qosyl.web.forms import strip

# Names that would read as the site speaking, or clash with paths.
RESERVED_USERNAMES = {
    "admin",
    "administrator",
    "api",
    "help",
    "login",
    "logout",
    "me",
    "moderator",
    "notifications",
    "qosyl",
    "register",
    "root",
    "settings",
    "staff",
    "support",
    "system",
    "welcome",
}


def name_field(label: str) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(f"Enter your {label.lower()}."),
            Length(max=50, message="Use at most 50 characters."),
        ],
    )


class RegisterForm(FlaskForm):
    first_name = name_field("First name")
    last_name = name_field("Last name")
    username = StringField(
        "Username",
        filters=[strip],
        validators=[
            DataRequired("Choose a username."),
            Length(min=3, max=30, message="Use 3 to 30 characters."),
            Regexp(r"^[A-Za-z0-9_]+$", message="Use only letters, digits and underscores."),
        ],
        render_kw={"autocomplete": "username"},
    )
    email = email_field()
    password, confirm = new_password_fields()

    def validate_username(self, field):
        if field.data.lower() in RESERVED_USERNAMES:
            raise ValidationError("This username is reserved. Choose another.")
        if user_by_username(field.data) is not None:
            raise ValidationError("This username is taken.")

    def validate_email(self, field):
        if email_in_use(field.data):
            raise ValidationError("An account with this email already exists.")

    def validate_password(self, field):
        check_new_password(
            field,
            [self.username.data, self.email.data, self.first_name.data, self.last_name.data],
        )


class LoginForm(FlaskForm):
    login = StringField(
        "Username or email",
        filters=[strip],
        validators=[DataRequired("Enter your username or email.")],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Remember me")


class EmailRequestForm(FlaskForm):
    """Resend a verification link, or ask for a password reset."""

    email = email_field()


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields("New password", "Confirm new password")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_password(self, field):
        user = self.user
        inputs = [user.username, user.email, user.first_name, user.last_name] if user else []
        check_new_password(field, inputs)
