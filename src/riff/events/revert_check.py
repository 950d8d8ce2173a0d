"""A quick check of one session's reverts, for the common case of a well-kept log.

`SessionFold` is the rule book. Verifying a large export, most sessions hold
only reverts that undo the latest still-effective repair of their message;
for those the fold reduces to a stack of effective repairs per message, and
this module settles them from the session's columns without building the
fold. Anything else (a revert of a revert, a revert that is not of its
message's top repair, parents that do not mirror, a derived status the
export does not claim) is not judged here: the caller runs `SessionFold`.

Why it agrees with `SessionFold` whenever it answers: a revert accepted here
targets the top of its message's stack, an earlier repair of this session
on the same message that no revert has undone, whose parents it mirrors and
whose new parent is the message's current one; every later event on the
message was a repair since undone, or a revert of such a repair. Those are
the conditions `SessionFold.revert_problem_fields` checks, and with no
revert of a revert the reverted events are exactly the accepted targets.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from itertools import compress, repeat


def settle_reverts(
    ids: Sequence[str],
    messages: Sequence[str],
    olds: Sequence[str | None],
    news: Sequence[str | None],
    targets: Sequence[str | None],
    claims: Sequence[bool | None],
) -> list[str] | None:
    """The ids a session's reverts undo, or None when `SessionFold` must judge.

    The sequences are the session's events in seq order; `claims` are the
    `is_reverted` flags the export gives (None when absent).
    """
    has_target = list(map(operator.is_not, targets, repeat(None)))
    touched = set(compress(messages, has_target))
    stacks: dict[str, list[int]] = {}
    parents: dict[str, str | None] = {}
    reverted: list[str] = []
    for index in compress(range(len(ids)), map(touched.__contains__, messages)):
        message = messages[index]
        target = targets[index]
        stack = stacks.get(message)
        if target is None:
            if stack is None:
                stacks[message] = [index]
            else:
                stack.append(index)
        else:
            if not stack:
                return None
            top = stack[-1]
            if (
                ids[top] != target
                or olds[index] != news[top]
                or news[index] != olds[top]
                or parents[message] != news[top]
            ):
                return None
            stack.pop()
            reverted.append(target)
        parents[message] = news[index]
    claimed = set(compress(ids, map(operator.is_, claims, repeat(True))))
    if claimed != set(reverted):
        return None
    return reverted
