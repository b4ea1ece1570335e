"""What changes reach open tabs and other clients, and the state processes share.

Actions publish typed events (`events.py`) through `bus.publish`; subscribers turn each
one into what their clients read (`web.py`: the HTML a browser swaps in) and send it once
the transaction commits (`qosyl/oncommit.py`).
"""
