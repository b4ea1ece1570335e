"""Pieces shared by the forms of several blueprints."""

from __future__ import annotations

from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import ValidationError

from qosyl.actions import ActionError
from qosyl.actions import RateLimited
from qosyl.actions.chat import MAX_MESSAGE_LENGTH
from qosyl.passwords import MAX_LENGTH
from qosyl.passwords import password_problem
from qosyl.ratelimits import too_often
from qosyl.ratelimits import UPLOADS
from qosyl.render import media


def upload_refusal() -> str | None:
    """Count one upload by the signed-in person; the message if they are over
    RATELIMIT_UPLOADS. Called before the file is read: decoding is the cost."""
    return too_often(UPLOADS, current_user.id, "uploading")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        filters=[strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message="Use at most 254 characters."),
            Email("Enter a valid email address, like name@example.com."),
        ],
        render_kw={"autocomplete": "email"},
    )


def new_password_fields(label: str = "Password", confirm_label: str = "Confirm password"):
    """A new password with its confirmation; the strength check is `check_new_password`."""
    password = PasswordField(
        label,
        validators=[
            DataRequired("Choose a password."),
            Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters."),
        ],
        render_kw={"autocomplete": "new-password"},
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


def check_new_password(field, user_inputs: list[str]) -> None:
    problem = password_problem(field.data or "", user_inputs)
    if problem:
        raise ValidationError(problem)


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
    """Show an ActionError next to its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class ImageField(FileField):
    """A file input whose validator turns the upload into a processed image (or an error)."""

    def __init__(self, label: str, spec: media.ImageSpec, **kwargs):
        kwargs.setdefault("render_kw", {"accept": media.ACCEPT_ATTRIBUTE})
        super().__init__(label, **kwargs)
        self.spec = spec
        self.processed: media.ProcessedImage | None = None

    def pre_validate(self, form):
        upload = self.data
        if upload is None or not getattr(upload, "filename", ""):
            return
        refusal = upload_refusal()
        if refusal:
            raise ValidationError(refusal)
        try:
            self.processed = media.process_image(upload.stream, self.spec)
        except media.ImageRejected as error:
            raise ValidationError(str(error)) from None


class ChatMessageForm(FlaskForm):
    """A chat message box, in rooms and conversations: the text and the id of this send
    (set by js/chat/outbox.js; a resend carries the same one)."""

    body = TextAreaField(
        "Message",
        validators=[
            Length(
                max=MAX_MESSAGE_LENGTH,
                message=f"Messages are at most {MAX_MESSAGE_LENGTH:,} characters.",
            )
        ],
        render_kw={"rows": 2, "placeholder": "Say something… Markdown and ```code``` work."},
    )
    client_id = HiddenField()
