"""The one place that sends mail. Messages go out after the transaction commits.

With no MAIL_SERVER configured (and not testing), mail is written to the log,
links included, so a newcomer can still verify an account in development.
"""

from __future__ import annotations

from flask import current_app
from flask import render_template
from flask_mail import Message

from qosyl.extensions import mail
from qosyl.live.oncommit import on_commit


def send_email(to: str, subject: str, template: str, **context) -> None:
    """Render `email/<template>.txt` and `.html` now; deliver after commit."""
    message = Message(
        subject=f"Qosyl: {subject}",
        recipients=[to],
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
    )
    app = current_app._get_current_object()
    on_commit(lambda: deliver(app, message))


def deliver(app, message: Message) -> None:
    if not app.config["MAIL_SERVER"] and not app.testing:
        app.logger.warning(
            "MAIL_SERVER is not set; this mail was not sent.\nTo: %s\nSubject: %s\n\n%s",
            ", ".join(message.recipients),
            message.subject,
            message.body,
        )
        return
    try:
        mail.send(message)
    except OSError:
        # The change is committed; the user can ask for the mail again.
        app.logger.exception("could not send mail to %s", message.recipients)
