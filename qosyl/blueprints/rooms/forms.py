from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from qosyl.actions.chat import MAX_MESSAGE_LENGTH
from qosyl.actions.rooms import DESCRIPTION_LENGTH
from qosyl.actions.rooms import NAME_LENGTH
from qosyl.actions.rooms import TOPIC_LENGTH
from qosyl.web.forms import ChatMessageForm
from qosyl.web.forms import strip


class RoomForm(FlaskForm):
    """A room's fields; rooms.create_room and rooms.edit_room judge them."""

    name = StringField(
        "Room name",
        filters=[strip],
        validators=[DataRequired("Give the room a name.")],
        render_kw={"maxlength": NAME_LENGTH},
    )
    topic = StringField(
        "Topic",
        filters=[strip],
        validators=[DataRequired("Pick a topic or type a new one.")],
        description="Pick one people already talk about, or type a new one.",
        render_kw={"list": "topics", "autocomplete": "off", "maxlength": TOPIC_LENGTH},
    )
    description = TextAreaField(
        "Description",
        filters=[strip],
        description="What the room is for. Markdown is not used here: plain text.",
        render_kw={"rows": 3, "maxlength": DESCRIPTION_LENGTH},
    )


class MessageForm(ChatMessageForm):
    """A room's message box."""


class EditMessageForm(FlaskForm):
    body = TextAreaField(
        "Edit your message",
        render_kw={"rows": 3, "maxlength": MAX_MESSAGE_LENGTH},
    )


def message_form(room_id: int, formdata=None) -> MessageForm:
    """Fields named room-<id>-*: the home page's lobby box may sit beside another chat."""
    return MessageForm(formdata=formdata, prefix=f"room-{room_id}")
