"""Metric tables in, grades out: statuses per target, rules that fire, scorecard scores, findings as records.

`grader.graded_table` adds the graded columns (with earlier periods from `history`) and says why a target or
rule was left ungraded (`Skipped`); `findings.findings` and `findings.scores` turn the columns into `Finding`
and `Score` records. No text for people is made here: see `render`.
"""
