"""Low: another process writing the embedded store behind riff's lock (issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from riff.app.eventlog import EventLog
from riff.settings import Settings
from riff.store import OpenedElsewhereError, open_store
from tests.store.helpers import chain_drafts

OTHER_WRITER = """
import sys
from surrealdb import Surreal
db = Surreal(sys.argv[1])
db.use("riff", "riff")
db.query("CREATE intruder SET x = 1")
"""


def test_a_write_by_another_process_is_one_clear_error(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'store'}"
    with EventLog(open_store(Settings(db_url=url, data_dir=tmp_path))) as store:
        store.append("s1", chain_drafts(1))
        subprocess.run([sys.executable, "-c", OTHER_WRITER, url], check=True, timeout=120)
        with pytest.raises(OpenedElsewhereError, match="one process at a time"):
            store.append("s1", chain_drafts(3)[1:])
            list(store.events("s1"))
