"""The plain near-copy rule (MinHash), the baseline of the story rule: copies of a story are found,
different articles on the same topic are not."""

from search.dedupe import THRESHOLD, estimated, signature, similarity
from tests.search.dedupe_pairs import FIXTURES, copy_of, precision_recall


def body(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")[2]


def test_the_syndicated_copy_is_found_and_other_funding_stories_are_not():
    names = ("funding-wire", "funding-analysis", "levee-fonds-fr", "small-model-release")
    signatures = {name: signature(body(name)) for name in names}
    assert copy_of(THRESHOLD, body("funding-syndicated"), signatures) == ["funding-wire"]


def test_the_chosen_threshold_merges_every_copy_and_nothing_else():
    precision, recall, copies, different = precision_recall(THRESHOLD)
    assert copies >= 80 and different >= 100
    assert precision == 1.0 and recall >= 0.95


def test_short_texts_are_never_called_copies():
    assert signature("Mistral AI raised money.") is None


def test_the_signatures_estimate_the_exact_similarity():
    a, b = body("funding-wire"), body("funding-syndicated")
    assert abs(estimated(signature(a), signature(b)) - similarity(a, b)) < 0.1
