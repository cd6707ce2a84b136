"""The subject judge's learned weighing, trained on the judged set's dev part.

`python -m tests.search.subject_model` prints a leave-one-round-out estimate (each round of the set
weighed by a model trained on the other dev rounds, beside the rules alone on that round), then trains
on all of dev and writes the weighing beside the subject's data file. `--folds` prints the estimate only.
The test part is never read.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from search.judgement.subject import SubjectJudge, load_subject, subject_file
from search.judgement.weighing import Reading, Weighing, fit
from tests.search.subject_eval import Case, cases

L2 = 2.0
THRESHOLD = (
    0.4  # chosen on the rounds left out in turn: both precision and recall at their best on the newest
)


def rules_only() -> SubjectJudge:
    return SubjectJudge(replace(load_subject(), weighing=None))


def round_of(case: Case) -> str:
    """The round that wrote the article: the `written_as` column's prefix (the first round has none)."""
    written = case.written_as
    if written.startswith("round"):
        return written.split("-", 1)[0]
    return "round2" if "/" in written else "round1"


def readings(judge: SubjectJudge, judged: list[Case]) -> list[tuple[Case, Reading]]:
    """The cases that name the subject in its sense, with their reading (the others the rules decide)."""
    found = []
    for case in judged:
        reading = judge.read(case.article)
        if isinstance(reading, Reading):
            found.append((case, reading))
    return found


def train(examples: list[tuple[Case, Reading]]) -> Weighing:
    return fit([(reading, case.about) for case, reading in examples], l2=L2, threshold=THRESHOLD)


def figures(decided: list[tuple[Case, bool]]) -> tuple[float, float, int]:
    accepted = [case for case, about in decided if about]
    true = sum(case.about for case in accepted)
    relevant = sum(case.about for case, _ in decided)
    return true / max(1, len(accepted)), true / max(1, relevant), len(decided)


def folds() -> str:
    judge = rules_only()
    dev = cases("dev")
    read = dict((case.file, reading) for case, reading in readings(judge, dev))
    rounds = sorted({round_of(case) for case in dev})
    lines = ["Leave one round out (dev only): the weighing trained on the other rounds, beside the rules"]
    lines.append(f"{'round':<8} {'articles':>8} {'weighed P':>9} {'R':>6} {'rules P':>8} {'R':>6}")
    pooled: list[tuple[list, list]] = []
    for held in [*rounds, "all"]:
        if held == "all":
            weighed, ruled = ([c for part in pooled for c in part[i]] for i in (0, 1))
        else:
            trained = train([(c, read[c.file]) for c in dev if round_of(c) != held and c.file in read])
            held_out = [c for c in dev if round_of(c) == held]
            weighed = [(c, c.file in read and trained.about(read[c.file])[0]) for c in held_out]
            ruled = [(c, c.file in read and read[c.file].ruled) for c in held_out]
            pooled.append((weighed, ruled))
        (wp, wr, n), (rp, rr, _) = figures(weighed), figures(ruled)
        lines.append(f"{held:<8} {n:>8} {wp:>9.3f} {wr:>6.3f} {rp:>8.3f} {rr:>6.3f}")
    lines.append("(the rules were tuned on the first rounds, so only the newest round's figures are fresh)")
    return "\n".join(lines)


def main() -> None:
    print(folds())
    if "--folds" in sys.argv:
        return
    judge = rules_only()
    weighing = train(readings(judge, cases("dev")))
    subject = load_subject()
    path = subject_file(subject.name).with_suffix(".weighing.json")
    weighing.save(path)
    print(f"wrote {path} ({len(weighing.weights)} weights)")


if __name__ == "__main__":
    main()
