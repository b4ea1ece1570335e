"""The message box of a conversation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from qosyl.web.forms import ChatMessageForm


class ConversationMessageForm(ChatMessageForm):
    attachment = FileField(
        "Attach a file",
        description="An image, a PDF, a ZIP archive or a text file.",
    )


def conversation_form(conversation_id: int, formdata=None) -> ConversationMessageForm:
    """Fields named conversation-<id>-*, apart from any room chat on the same page."""
    return ConversationMessageForm(formdata=formdata, prefix=f"conversation-{conversation_id}")


class GroupForm(FlaskForm):
    name = StringField("Group name", render_kw={"maxlength": 80, "autocomplete": "off"})
    invitees = SelectMultipleField(
        "Invite",
        description="Your friends and the people you message. They join when they accept.",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )


class RenameForm(FlaskForm):
    name = StringField("Group name", render_kw={"maxlength": 80})


class InviteForm(FlaskForm):
    invitee = SelectField("Invite someone", validate_choice=False)
