from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import Form
from wtforms import FormField

from qosyl.notification_kinds import KINDS


class _KindsForm(Form):
    """One checkbox per notification kind, named after the kind."""


for _kind in KINDS.values():
    setattr(_KindsForm, _kind.name, BooleanField(_kind.label))


class NotificationSettingsForm(FlaskForm):
    kinds = FormField(_KindsForm)
