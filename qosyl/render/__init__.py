"""Turning data into what people see or receive: user text into safe HTML (markup),
images (media), message files (attachments), mail, template helpers, the installable shell.
"""
