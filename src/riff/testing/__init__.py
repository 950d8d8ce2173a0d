"""Generated Claude Code transcripts with known breakage, for tests, benchmarks and `riff demo`.

Nothing in riff's own pipeline imports this package: it writes transcripts
shaped like real ones (see docs/spec/claude-code-transcripts.md), breaks them in
the ways riff detects, and records the ground truth of each break.
"""
