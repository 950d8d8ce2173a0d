"""riff: find, repair and audit broken Claude Code transcripts."""

__version__ = "0.1.0"
