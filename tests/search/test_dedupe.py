"""Near-duplicates: copies of a story merge, different articles on the same topic do not."""

import numpy as np

from search.dedupe import THRESHOLD, NearDuplicates
from tests.search.dedupe_pairs import FIXTURES, precision_recall


def body(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")[2]


def test_the_syndicated_copy_is_found_and_other_funding_stories_are_not():
    index = NearDuplicates()
    for name in ("funding-wire", "funding-analysis", "levee-fonds-fr", "small-model-release"):
        index.add(name, body(name))
    assert index.find(body("funding-syndicated")) == "funding-wire"
    index.remove("funding-wire")
    assert index.find(body("funding-syndicated")) is None


def test_the_chosen_threshold_merges_every_copy_and_nothing_else():
    precision, recall, copies, different = precision_recall(THRESHOLD)
    assert copies >= 80 and different >= 100
    assert precision == 1.0 and recall >= 0.95


def test_short_texts_are_never_called_copies():
    index = NearDuplicates()
    index.add("a", "Mistral AI raised money.")
    assert index.find("Mistral AI raised money.") is None


def test_signatures_loaded_in_another_index_find_the_same_copies_among_many():
    names = ("funding-wire", "funding-analysis", "levee-fonds-fr", "small-model-release")
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 2**32, size=(3000, 128), dtype=np.uint32)  # more than one sort's worth
    first = NearDuplicates()
    first.add_signatures([f"noise-{i}" for i in range(len(noise))], noise)
    for name in names:
        first.add(name, body(name))
    first.remove("noise-7")
    keys, values = first.signatures()
    second = NearDuplicates()
    second.add_signatures(keys, values)
    assert len(second) == len(first) == 3003 and "noise-7" not in second
    for index in (first, second):
        assert index.find(body("funding-syndicated")) == "funding-wire"
        index.remove("funding-wire")
        assert index.find(body("funding-syndicated")) is None
