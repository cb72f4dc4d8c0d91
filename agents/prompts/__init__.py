"""Prompts and JSON schemas of every LLM request the agents make, one module per agent.

Each schema's `title` is its purpose (e.g. `design.propose`), so a scripted
test model can tell requests apart from the schema alone. User messages end
with a fenced JSON block holding the facts of the request, readable by a model
and parseable by a test responder alike.
"""
