"""The one exception a domain rule raises when an action is not allowed."""


class RuleViolation(Exception):
    """An action broke a domain rule; `message` is a translatable, user-facing sentence."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = message
        #: the form field the message belongs beside, or None for the form as a whole
        self.field = field


def step(table: dict, state, action: str, *, refusal):
    """The state that `action` leads to from `state` in a transition table {(state, action): target},
    or RuleViolation(refusal) when the table has no such step (requests and cards both go through here)."""
    target = table.get((state, action))
    if target is None:
        raise RuleViolation(refusal)
    return target
