from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from qosyl.actions.chat import MAX_MESSAGE_LENGTH
from qosyl.actions.rooms import NAME_LENGTH
from qosyl.actions.rooms import TOPIC_LENGTH
from qosyl.forms import ChatMessageForm
from qosyl.forms import strip


class RoomForm(FlaskForm):
    name = StringField(
        "Room name",
        filters=[strip],
        validators=[
            DataRequired("Give the room a name."),
            Length(max=NAME_LENGTH, message=f"Use at most {NAME_LENGTH} characters."),
        ],
    )
    topic = StringField(
        "Topic",
        filters=[strip],
        validators=[
            DataRequired("Pick a topic or type a new one."),
            Length(max=TOPIC_LENGTH, message=f"Use at most {TOPIC_LENGTH} characters."),
        ],
        description="Pick one people already talk about, or type a new one.",
        render_kw={"list": "topics", "autocomplete": "off"},
    )
    description = TextAreaField(
        "Description",
        filters=[strip],
        validators=[Length(max=2000, message="Use at most 2,000 characters.")],
        description="What the room is for. Markdown is not used here: plain text.",
        render_kw={"rows": 3},
    )


class MessageForm(ChatMessageForm):
    """A room's message box."""


class EditMessageForm(FlaskForm):
    body = TextAreaField(
        "Edit your message",
        validators=[Length(max=MAX_MESSAGE_LENGTH)],
        render_kw={"rows": 3},
    )


def message_form(room_id: int, formdata=None) -> MessageForm:
    """Fields named room-<id>-*: the home page's lobby box may sit beside another chat."""
    return MessageForm(formdata=formdata, prefix=f"room-{room_id}")
