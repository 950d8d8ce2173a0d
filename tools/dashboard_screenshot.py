"""The README's dashboard screenshot: generated demo data, rendered by headless Chromium.

    .venv/bin/python tools/dashboard_screenshot.py [docs/img/dashboard.png]

Builds a team's log in a temporary directory (`riff.app.demo_log`: generated
transcripts repaired through riff's own pipeline by four operators over six
weeks), signs a checkpoint, writes the dashboard with `riff report` and
photographs the top of it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.report.browser import chromium_page  # noqa: E402
from tests.report.conftest import TeamLog  # noqa: E402

from riff.app.demo_log import build_demo_log  # noqa: E402
from riff.app.workspace import Workspace  # noqa: E402
from riff.settings import Settings  # noqa: E402


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img" / "dashboard.png"
    with tempfile.TemporaryDirectory(prefix="riff-shot-") as tmp:
        root = Path(tmp)
        settings = Settings(
            data_dir=root / "data",
            projects_dir=root / "projects",
            db_url=f"surrealkv://{root / 'data' / 'store'}",
            operator="alice",
        )
        with Workspace(settings) as ws:
            build_demo_log(ws)
        team = TeamLog(
            root,
            {
                "RIFF_PROJECTS_DIR": str(settings.projects_dir),
                "RIFF_DATA_DIR": str(settings.data_dir),
                "RIFF_DB_URL": settings.db_url,
                "RIFF_CONFIG": str(root / "none.toml"),
            },
            settings,
        )
        page_path = root / "dashboard.html"
        signed = team.riff("checkpoint")
        if signed.exit_code != 0:
            raise SystemExit(signed.output)
        result = team.riff("report", "-o", str(page_path))
        if result.exit_code != 0:
            raise SystemExit(result.output)
        with chromium_page() as page:
            page.set_viewport(1200, 1900)
            page.prefer_dark(False)
            page.open(page_path)
            page.screenshot(target, full_page=False)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
