from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired

from qosyl.actions.accounts import NAME_LENGTH
from qosyl.actions.accounts import USERNAME_MAX_LENGTH
from qosyl.actions.accounts import USERNAME_MIN_LENGTH
from qosyl.web.forms import email_field
from qosyl.web.forms import new_password_fields
from qosyl.web.forms import strip


def name_field(label: str) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[DataRequired(f"Enter your {label.lower()}.")],
        render_kw={"maxlength": NAME_LENGTH},
    )


class RegisterForm(FlaskForm):
    """The fields of a sign-up; accounts.register_user judges them (shape, reserved and
    taken usernames, addresses in use, password strength)."""

    first_name = name_field("First name")
    last_name = name_field("Last name")
    username = StringField(
        "Username",
        filters=[strip],
        validators=[DataRequired("Choose a username.")],
        render_kw={
            "autocomplete": "username",
            "minlength": USERNAME_MIN_LENGTH,
            "maxlength": USERNAME_MAX_LENGTH,
        },
    )
    email = email_field()
    password, confirm = new_password_fields()


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
    """A new password; its strength is judged by the action (accounts.reset_password)."""

    password, confirm = new_password_fields("New password", "Confirm new password")
