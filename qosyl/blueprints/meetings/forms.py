from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from qosyl.web.forms import strip


class JoinForm(FlaskForm):
    """Join a meeting by the link someone shared, or by its id alone."""

    link = StringField(
        "Meeting link or id",
        filters=[strip],
        validators=[DataRequired("Paste the meeting's link or type its id.")],
        description=(
            "For example https://qosyl.example/meetings/Ab3dEf6hIj9kLm2n, or Ab3dEf6hIj9kLm2n."
        ),
        render_kw={"autocomplete": "off", "maxlength": 500, "spellcheck": "false"},
    )
