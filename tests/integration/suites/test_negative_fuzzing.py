"""The contract suite's negative stage against the reference served on each database: generated requests
that break the contract are refused with a 4xx in the error shape, and none gets a 5xx (issue 12).

On PostgreSQL this is where NUL bytes and out-of-range values in refused input would surface as 500s.
"""

from __future__ import annotations

from pathlib import Path

from suite_runs import run_suites, served_reference

from harness.report import parse_junit

#: Generated examples per operation and mode: about 40 operations x 2 modes x this many cases.
EXAMPLES = "15"


def test_generated_invalid_input_never_gets_a_5xx_on_either_database(
    database_url: str, tmp_path: Path
) -> None:
    with served_reference(tmp_path, database_url=database_url) as (url, fakes):
        extra = ["--payments-target", url, "--payments-examples", EXAMPLES]
        for rail, fake_url in sorted(fakes.items()):
            extra += ["--payments-fake", f"{rail}={fake_url}"]
        run = run_suites(tmp_path, suites=("contract",), extra=extra)
    stage = [o for o in run.outcomes if "refuses_input_that_breaks_the_contract" in o.test]
    assert stage, f"the negative stage did not run\n{run.output[-2000:]}"
    wrong = [o for o in run.outcomes if o.status in ("failed", "error")]
    assert not wrong, "\n\n".join(f"{o.test}: {o.message[:1500]}" for o in wrong)
    assert int(parse_junit(tmp_path / "junit.xml").properties["generated_negative_cases"]) > 100
