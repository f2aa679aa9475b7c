"""Metric tables in, grades out: statuses per target, rules that fire, scorecard scores, findings as records.

`grader.graded_table` adds the graded columns (with earlier periods from `history`), `findings.findings` and
`findings.scores` turn them into `Finding` and `Score` records. No text for people is made here: see `render`.
"""
