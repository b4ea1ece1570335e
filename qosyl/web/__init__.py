"""What the HTML transport shares across blueprints: signing in, shared form pieces, HTMX
pages and fragments, safe redirects, parsing what clients send.
"""
