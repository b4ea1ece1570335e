"""The read side: fetch-and-authorise (access), queries by domain, search.

Nothing here writes; actions (qosyl/actions/) do.
"""
