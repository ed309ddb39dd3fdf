"""Recipes with reward labels (pipelines/mix/labelled.py): label filters keep exactly the rows inside
their bands, the manifest says what each filter removed per source and task, unlabelled rows are refused
or counted, a sample labelled twice is refused, bad keys are named, and difficulty weights give each row
its expected number of copies."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from pipelines import labels, layout, storage
from pipelines import synthetic_ingested as synthetic
from pipelines.mix import RecipeError, parse_recipe, run_mix
from pipelines.mix import allocate
from pipelines.mix.select import select
from pipelines.parquet import write_rows


def label_folder(path, values: dict[str, tuple[str, float, float]]) -> str:
    """A finished label folder: sample id -> (task, success, reward_std)."""
    rows = [{"sample_id": sid, "task": task, "model": "m", "profile": "default", "group_size": 8, "seed": 0,
             "reward_mean": success, "reward_std": std, "success": success, "unparsed": 0.0, "truncated": 0.0,
             "completion_length": 30.0} for sid, (task, success, std) in values.items()]
    write_rows(labels.unit_part(str(path), labels.LABELS, 0, 1), rows, labels.label_schema())
    storage.write_json(storage.join(str(path), labels.RUN_FILE), {"seed": 0})
    storage.write_json(layout.manifest_path(str(path)), {"settings": {"model_fingerprint": "m", "profile": "default",
                                                                       "group_size": 8, "seed": 0}})
    return str(path)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two ingestion folders (grounding; grounded + video QA) and labels for every sample: success i/10 by
    sample index, reward_std 0 on every fifth."""
    root = tmp_path_factory.mktemp("labelled")
    values = {}
    for name, tasks, n, seed in (("ground", ("temporal_grounding",), 40, 1), ("qa", ("grounded_qa", "video_qa"), 30, 2)):
        videos = synthetic.make_videos(10, n_frames=4, seed=seed, prefix=name)
        samples = synthetic.make_samples(videos, n, tasks, seed, dataset=name)
        synthetic.write_ingested(str(root / name), samples, videos)
        for i, s in enumerate(samples):
            values[s["sample_id"]] = (s["task"], (i % 11) / 10, 0.0 if i % 5 == 0 else 0.3)
    label_folder(root / "labels", values)
    return root, values


def recipe(root, **extra):
    raw = {"seed": 3, "dedup": False, "sources": [{"name": "ground", "path": "ground"}, {"name": "qa", "path": "qa"}],
           "labels": ["labels"], **extra}
    return parse_recipe(raw, str(root))


def test_a_success_band_keeps_exactly_the_rows_inside_it(world, tmp_path):
    root, values = world
    result = run_mix(recipe(root, filters={"success": {"min": 0.1, "max": 0.9}}), str(tmp_path / "mix"))
    inside = {sid for sid, (_, success, _) in values.items() if 0.1 <= success <= 0.9}
    mixed = pl.read_parquet(layout.parts(str(tmp_path / "mix")))["sample_id"].to_list()
    assert sorted(mixed) == sorted(inside) and len(inside) < len(values)
    removed: dict[str, dict[str, int]] = {}
    for sid, (task, success, _) in values.items():
        if sid not in inside:
            source = "ground" if sid.startswith("ground") else "qa"
            removed.setdefault(source, {}).setdefault(task, 0)
            removed[source][task] += 1
    for s in result.manifest["sources"]:
        assert s["dropped"] == {"filter_success": sum(removed[s["name"]].values())}
        assert s["dropped_by_task"] == {"filter_success": removed[s["name"]]}
    assert set(removed["qa"]) == {"grounded_qa", "video_qa"}                    # per task, not only per source
    assert result.manifest["labels"][str(root / "labels")]["rows"] == len(values)


def test_reward_std_and_a_source_of_its_own_filters(world):
    root, values = world
    sel = select(recipe(root, filters={"reward_std": {"min": 0.01}},
                        sources=[{"name": "ground", "path": "ground", "filters": {"success": {"max": 0.5}}},
                                 {"name": "qa", "path": "qa"}]))
    want = {sid for sid, (_, success, std) in values.items()
            if std >= 0.01 and (not sid.startswith("ground") or success <= 0.5)}
    assert set(sel.rows["sample_id"].to_list()) == want


def test_unlabelled_rows_are_refused_or_counted_and_double_labels_refused(world, tmp_path):
    root, values = world
    some = dict(list(values.items())[5:])                   # the first five grounding samples have no label
    label_folder(tmp_path / "part", some)
    raw = {"seed": 3, "sources": [{"name": "ground", "path": str(root / "ground")}], "labels": [str(tmp_path / "part")],
           "filters": {"success": {"min": 0.0}}}
    with pytest.raises(RecipeError, match="source ground: 5 of 40 rows have no reward label .* `unlabeled: drop`"):
        select(parse_recipe(raw, str(root)))
    sel = select(parse_recipe({**raw, "unlabeled": "drop"}, str(root)))
    assert sel.stats[0].dropped == {"no_label": 5} and len(sel.rows) == 35
    assert sel.stats[0].dropped_by_task == {"no_label": {"temporal_grounding": 5}}
    plain = select(parse_recipe({k: v for k, v in raw.items() if k != "filters"}, str(root)))
    assert len(plain.rows) == 40 and not plain.stats[0].dropped                  # labels joined, nothing asks for them
    label_folder(tmp_path / "again", dict(list(values.items())[5:8]))
    with pytest.raises(RecipeError, match="is labelled in .*part and .*again.*3 samples are labelled twice"):
        select(parse_recipe({**raw, "labels": [str(tmp_path / "part"), str(tmp_path / "again")]}, str(root)))
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    with pytest.raises(RecipeError, match="no finished labeling run"):
        select(parse_recipe({**raw, "labels": [str(unfinished)]}, str(root)))


@pytest.mark.parametrize("extra, message", [
    ({"filters": {"reward_sd": {"min": 0.1}}}, "unknown filter 'filters.reward_sd'"),
    ({"labels": [], "filters": {"success": {"min": 0.1}}}, "filters.success is a reward-label filter: add `labels:`"),
    ({"labels": [], "sources": [{"path": "ground", "filters": {"reward_std": {"min": 0}}}]},
     r"sources\[0\].filters.reward_std is a reward-label filter"),
    ({"labels": [], "difficulty": {"by": "success", "bins": [0, 1], "weights": [1]}}, "difficulty is drawn by reward labels: add `labels:`"),
    ({"difficulty": {"by": "succes", "bins": [0, 1], "weights": [1]}}, "difficulty.by must be one of"),
    ({"difficulty": {"bins": [0, 0.5, 0.5, 1], "weights": [1, 2, 3]}}, "difficulty.bins: expected at least two ascending"),
    ({"difficulty": {"bins": [0, 0.5, 1], "weights": [1]}}, "difficulty.weights: expected one weight per bin"),
    ({"difficulty": {"bins": [0, 1], "weights": [0]}}, "difficulty.weights must be positive"),
    ({"filters": {"success": {"min": 0.9, "max": 0.1}}}, "min 0.9 > max 0.1"),
    ({"unlabeled": "keep"}, "unlabeled must be one of"),
])
def test_bad_label_keys_are_refused_naming_the_key(world, extra, message):
    root, _ = world
    with pytest.raises(RecipeError, match=message):
        recipe(root, **extra)


def test_weighted_draws_give_each_row_its_expected_copies():
    rng = np.random.default_rng(0)
    for size, k in ((7, 7), (10, 23), (5, 2)):
        w = rng.uniform(0.2, 3.0, size)
        idx = allocate.draw(size, k, np.random.default_rng(1), w)
        copies = np.bincount(idx, minlength=size)
        exact = k * w / w.sum()
        assert copies.sum() == k
        assert all(math.floor(e + 1e-9) <= c <= math.ceil(e - 1e-9) for c, e in zip(copies, exact))
    assert np.bincount(allocate.draw(4, 12, np.random.default_rng(2), np.array([1, 1, 2, 2])), minlength=4).tolist() == [2, 2, 4, 4]


def test_difficulty_weights_favour_the_middle(world):
    root, values = world
    bands = {"by": "success", "bins": [0, 0.2, 0.8, 1], "weights": [1, 4, 1]}
    sel = select(recipe(root, sources=[{"name": "ground", "path": "ground"}], difficulty=bands))
    counts = sel.rows.group_by("sample_id").len()
    got = dict(counts.iter_rows())
    assert sum(got.values()) == 40                               # plain concatenation: the count is unchanged
    weight = {sid: (1 if s < 0.2 else 4 if s < 0.8 else 1) for sid, (_, s, _) in values.items() if sid.startswith("ground")}
    total = sum(weight.values())
    for sid, w in weight.items():
        exact = 40 * w / total
        assert math.floor(exact + 1e-9) <= got.get(sid, 0) <= math.ceil(exact - 1e-9), sid
    middle = [got.get(sid, 0) for sid, w in weight.items() if w == 4]
    edges = [got.get(sid, 0) for sid, w in weight.items() if w == 1]
    assert min(middle) >= 1 and sum(middle) / len(middle) > 2 * sum(edges) / len(edges)


def test_a_label_folder_is_an_input_of_the_mixture(world):
    from pipelines.outputs import FolderRefused

    root, _ = world
    before = sorted(p.name for p in (root / "labels").iterdir())
    with pytest.raises(FolderRefused, match=r"the input labels \(.*\) .*: vrft never writes where its inputs are"):
        run_mix(recipe(root), str(root / "labels"), overwrite=True)
    assert sorted(p.name for p in (root / "labels").iterdir()) == before
