"""The post page's comments come from macros (macros/comments.html): the hand-written blank
reply form must stay what ReplyForm renders, or replies would stop validating."""

from __future__ import annotations

from types import SimpleNamespace

from flask import render_template_string

from qosyl.blueprints.posts.forms import reply_form

POST = SimpleNamespace(id=7)
PARENT = SimpleNamespace(id=5)


def test_the_blank_reply_form_is_what_reply_form_renders(app):
    with app.test_request_context("/p/7"):
        by_hand = render_template_string(
            '{% from "macros/comments.html" import blank_reply_form %}'
            "{{ blank_reply_form(post, parent) }}",
            post=POST,
            parent=PARENT,
        )
        by_wtforms = render_template_string(
            '{% include "components/_comment_form.html" %}',
            form=reply_form(PARENT.id),
            post=POST,
            parent=PARENT,
            new_comment=None,
        )
    assert 'name="reply-5-csrf_token"' in by_hand
    assert by_hand == by_wtforms.rstrip("\n")
