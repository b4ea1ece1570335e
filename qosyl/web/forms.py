"""Pieces shared by the forms of several blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo

from qosyl.actions import ActionError
from qosyl.actions import Invalid
from qosyl.actions import RateLimited
from qosyl.actions.accounts import EMAIL_MAX_LENGTH
from qosyl.actions.chat import MAX_MESSAGE_LENGTH
from qosyl.actions.uploads import Upload
from qosyl.passwords import MAX_LENGTH
from qosyl.render import media


def strip(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label: str = "Email") -> EmailField:
    """An address; its format is checked by the action (accounts.check_email)."""
    return EmailField(
        label,
        filters=[strip],
        validators=[DataRequired("Enter your email address.")],
        render_kw={"autocomplete": "email", "maxlength": EMAIL_MAX_LENGTH},
    )


def new_password_fields(label: str = "Password", confirm_label: str = "Confirm password"):
    """A new password with its confirmation; its strength is the action's to judge
    (accounts.check_new_password)."""
    password = PasswordField(
        label,
        validators=[DataRequired("Choose a password.")],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )
    confirm = PasswordField(
        confirm_label,
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The passwords do not match."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


INVALID_FORM = 422  # htmx swaps it (see htmx-config in base.html): the form with its errors


def form_status(form) -> int:
    """422 when the submitted form has errors, so HTMX and tests can tell; else 200."""
    return INVALID_FORM if form.errors or form.form_errors else 200


def refusal_status(error: ActionError | None) -> tuple[int, dict[str, str]]:
    """422 for a form with errors; 429 with Retry-After when the refusal only holds for now
    (the chat's outbox sends the message again after the wait)."""
    if isinstance(error, RateLimited):
        return 429, {"Retry-After": str(error.retry_after)}
    return INVALID_FORM, {}


def apply_action_error(form, error) -> None:
    """Show an ActionError next to its field, or above the form (each of an Invalid's)."""
    errors = error.errors if isinstance(error, Invalid) else {error.field: error.message}
    for name, message in errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def upload_of(field) -> Upload | None:
    """What a file input received, for an action to check; None if no file was chosen."""
    data = field.data
    if data is None or not getattr(data, "filename", ""):
        return None
    return Upload(data.stream, data.filename)


class ImageField(FileField):
    """A file input for an image; the action decodes and checks what it receives."""

    def __init__(self, label: str, **kwargs):
        kwargs.setdefault("render_kw", {"accept": media.ACCEPT_ATTRIBUTE})
        super().__init__(label, **kwargs)

    def upload(self) -> Upload | None:
        return upload_of(self)


class ChatMessageForm(FlaskForm):
    """A chat message box, in rooms and conversations: the text and the id of this send
    (set by js/chat/outbox.js; a resend carries the same one). Its length is the action's to judge
    (chat.message_body)."""

    body = TextAreaField(
        "Message",
        render_kw={
            "rows": 2,
            "placeholder": "Say something… Markdown and ```code``` work.",
            "maxlength": MAX_MESSAGE_LENGTH,
        },
    )
    client_id = HiddenField()
