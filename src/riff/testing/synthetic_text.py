"""Plausible text for synthetic sessions, so previews and similarity look real."""

from __future__ import annotations

import random

PROMPTS = (
    "The login test is flaky on CI, can you find out why?",
    "Add a --dry-run flag to the export command",
    "Why does the parser choke on files with a BOM?",
    "Refactor the cache layer so it can be swapped for Redis",
    "Write tests for the invoice rounding rules",
    "The dashboard takes 8 seconds to load, profile it",
    "Rename UserService to AccountService everywhere",
    "Can you explain what this migration does?",
    "Fix the type errors mypy reports in the billing module",
    "Make the retry logic back off exponentially",
    "Update the README with the new install steps",
    "The websocket drops after 60 seconds idle, fix it",
    "Port the date helpers from moment to date-fns",
    "Add pagination to the /orders endpoint",
    "Why is the Docker image 2 GB? Slim it down",
    "continue",
    "yes, go ahead",
    "looks good, now run the full test suite",
    "no, keep the old behaviour behind a flag",
    "commit this with a clear message",
)

ASSISTANT_TEXTS = (
    "I'll start by looking at how the test sets up its fixtures.",
    "Let me read the relevant files first.",
    "The failure comes from a race between the session cleanup and the next request.",
    "I found the problem: the timeout is read before the config is loaded.",
    "Now I'll update the tests to cover the new flag.",
    "All 214 tests pass. Here's a summary of the changes:",
    "The parser assumes UTF-8 without a byte order mark; I'll strip it on open.",
    "Let me check where this function is called from.",
    "I've made the change. The cache now goes through a small protocol.",
    "Running the linter to make sure nothing else broke.",
    "That migration adds a nullable column and backfills it in batches.",
    "The slow part is an N+1 query in the order summary; I'll batch it.",
    "Done. The image is now 310 MB, mostly the Python runtime.",
    "I'll rename the class and update every import.",
)

THINKING = (
    "The user wants the flag to be opt-in. I should check how other commands parse flags.",
    "This looks like a timing issue. Let me consider where the clock is read.",
    "There are two call sites. The second one passes a string, not a Path.",
    "I need to be careful not to change the public API here.",
)

TOOLS = ("Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite")
FILES = (
    "src/app/auth/session.py",
    "src/app/billing/invoice.py",
    "tests/test_login.py",
    "src/parser/reader.ts",
    "README.md",
    "src/cache/backend.py",
    "docker/Dockerfile",
    "src/api/orders.py",
)
COMMANDS = (
    "pytest -q tests/test_login.py",
    "npm test -- --runInBand",
    "git status",
    "ruff check .",
    "mypy src",
    "docker build -t app .",
    "git diff --stat",
)
CODE = (
    "def refresh(self, token: str) -> Session:",
    "    if not token:",
    "        raise AuthError('missing token')",
    "    session = self.store.get(token)",
    "    return session.with_expiry(self.clock.now() + self.ttl)",
    "import { parse } from './grammar';",
    "export function readAll(path: string): Row[] {",
    "class InvoiceLine(BaseModel):",
    "    amount: Decimal",
    "    currency: str = 'EUR'",
    "for attempt in range(self.max_retries):",
    "    time.sleep(self.base_delay * 2 ** attempt)",
    "SELECT id, total FROM orders WHERE customer_id = %s",
    "assert response.status_code == 200",
)


def tool_input(rng: random.Random, tool: str) -> dict[str, object]:
    if tool == "Bash":
        return {"command": rng.choice(COMMANDS), "description": "Run the checks"}
    if tool in ("Grep", "Glob"):
        return {"pattern": rng.choice(("refresh", "Invoice", "*.py", "TODO")), "path": "src"}
    if tool == "TodoWrite":
        return {"todos": [{"content": rng.choice(PROMPTS), "status": "in_progress"}]}
    if tool == "Edit":
        return {
            "file_path": rng.choice(FILES),
            "old_string": rng.choice(CODE),
            "new_string": rng.choice(CODE),
        }
    return {"file_path": rng.choice(FILES)}


def tool_output(rng: random.Random, size_hint: int) -> str:
    """Code-like output of about ``size_hint`` characters, numbered like Read's."""
    parts: list[str] = []
    total = 0
    n = 1
    while total < size_hint:
        line = f"{n:>6}\u2192{rng.choice(CODE)}"
        parts.append(line)
        total += len(line) + 1
        n += 1
    return "\n".join(parts)
