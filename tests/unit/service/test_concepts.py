"""Concept test jobs in-process: the planted answer, the cache by inputs,
progress, cancel, what is stored, and hostile requests."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dashapp.analysis.tcav.experiment import MIN_CONCEPT_IMAGES
from dashapp.collections import CollectionStore, FileBlobStore
from dashapp.errors import UserError
from dashapp.service.concepts.jobs import ConceptJobs, in_process
from dashapp.service.concepts.request import ConceptRequest, default_layers
from dashapp.store import FileImageStore
from devtools.servers import wait_for
from tests.support.concept_collections import ConceptRegistry, planted_collections


@pytest.fixture(scope="module")
def registry() -> ConceptRegistry:
    return ConceptRegistry()


@pytest.fixture
def setup(tmp_path: Path, registry: ConceptRegistry):
    blobs = FileBlobStore(tmp_path / "blobs")
    collections = CollectionStore(blobs)
    images = FileImageStore(tmp_path / "images", 10_000_000)
    ids = planted_collections(collections, images)
    return ConceptJobs(blobs, collections, images, registry, in_process), ids


def body(ids: dict[str, str], **extra: object) -> dict[str, object]:
    return {"model": "concepts", "concepts": [ids["red"], ids["blue"]], "random": ids["noise"], "class": 0,
            "images": ids["class"], "layers": ["green", "red", "head"], "runs": 6, **extra}


def finished(jobs: ConceptJobs, job: str) -> dict:
    wait_for(lambda: jobs.status(job)["state"] in ("done", "failed"), 120, "the concept test")
    status = jobs.status(job)
    assert status["state"] == "done", status
    return status


def test_the_planted_answer_through_the_job(setup) -> None:
    jobs, ids = setup
    job = jobs.start(body(ids))
    status = finished(jobs, job)
    assert status["done"] == status["total"] > 0
    rows = {(row["concept"], row["layer"]): row for row in status["results"]}
    assert len(rows) == 6 and set(status["results"][0]) >= {"concept", "layer", "score_mean", "score_std", "p_value",
                                                            "significant", "cav_accuracy"}
    red = rows[(ids["red"], "red")]
    assert red["score_mean"] == 1.0 and red["significant"]
    assert not any(rows[(ids["blue"], layer)]["significant"] for layer in ("green", "red", "head"))
    assert not rows[(ids["red"], "green")]["significant"]
    for row in status["results"]:  # significant means exactly p < 0.05 / (layers x concepts)
        assert row["significant"] == (row["p_value"] < 0.05 / 6)


def test_the_same_inputs_are_the_same_job_and_the_result_says_how_to_redo_it(setup) -> None:
    jobs, ids = setup
    job = jobs.start(body(ids))
    finished(jobs, job)
    assert jobs.start(body(ids)) == job  # cached: no second run
    assert len(jobs.threads) == 1
    assert jobs.start(body(ids, runs=5)) != job and jobs.start(body(ids, seed=3)) != job
    stored = jobs.result(job)
    assert stored["request"] == {"model": "concepts", "weights": "pretrained", "concepts": [ids["red"], ids["blue"]],
                                 "random": ids["noise"], "class_index": 0, "images": ids["class"],
                                 "layers": ["green", "red", "head"], "runs": 6, "seed": 0}
    assert len(stored["used"]["random"]) == 24 and set(stored["used"]["concepts"]) == {ids["red"], ids["blue"]}
    assert stored["method"]["classifier"].endswith("SGDClassifier") and stored["category"] == "red square"
    assert ConceptRequest.from_json(ConceptRequest(**{**stored["request"], "concepts": tuple(stored["request"][
        "concepts"]), "layers": tuple(stored["request"]["layers"])}).to_json()).key == job


def test_cancel_stops_the_job_and_start_runs_it_again(setup, monkeypatch) -> None:
    jobs, ids = setup
    gate, entered = threading.Event(), threading.Event()
    import dashapp.service.concepts.jobs as module

    real = module.compute

    def slow(request, used, registry, collections, images, tick):
        def held(units: int) -> None:
            entered.set()
            gate.wait(30)
            tick(units)

        return real(request, used, registry, collections, images, held)

    monkeypatch.setattr(module, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(module, "compute", slow)
    job = jobs.start(body(ids))
    assert entered.wait(30)
    assert jobs.cancel(job)["state"] == "cancelled"
    gate.set()
    jobs.threads[job].join(30)
    assert jobs.status(job)["state"] == "cancelled" and jobs.result(job) is None
    monkeypatch.setattr(module, "compute", real)
    assert jobs.start(body(ids)) == job
    finished(jobs, job)


def test_default_layers_are_the_last_of_each_map_size(registry) -> None:
    assert default_layers(registry.loaded.evidence_layers()) == ["head"]  # one map size: the last layer


@pytest.mark.parametrize(("change", "words"), [
    ({"concepts": ["one"]}, f"at least {MIN_CONCEPT_IMAGES}"),
    ({"concepts": ["0" * 64]}, "no collection"),
    ({"concepts": []}, "must name collections"),
    ({"class": 3}, "Class '3' does not exist"),
    ({"class": -1}, "does not exist"),
    ({"class": "x"}, "does not exist"),
    ({"class": None}, "class is required"),
    ({"layers": ["nope"]}, "no conv layer or block"),
    ({"runs": 1}, "between 2 and"),
    ({"model": "vgg"}, "Unknown model"),
    ({"random": "red"}, "cannot also be a concept"),
    ({"images": "0" * 64}, "no collection"),
])
def test_hostile_requests_are_clear_user_errors(setup, change: dict, words: str) -> None:
    jobs, ids = setup
    asked = body(ids)
    for field, value in change.items():
        asked[field] = [ids.get(v, v) for v in value] if isinstance(value, list) else ids.get(value, value) \
            if isinstance(value, str) else value
    with pytest.raises(UserError, match=words):
        jobs.start(asked)


def test_a_body_that_is_no_object_and_an_unknown_job_are_user_errors(setup) -> None:
    jobs, _ids = setup
    with pytest.raises(UserError, match="JSON object"):
        jobs.start(["not", "an", "object"])
    with pytest.raises(UserError, match="no concept test"):
        jobs.status("f" * 64)


def test_a_five_thousand_image_concept_is_subsampled_to_the_stated_bound() -> None:
    """Bounded memory: at most MAX_IMAGES images of a concept or class collection
    (RANDOM_CAP of the random one) are passed, a seeded sample, whatever the size."""
    from dashapp.analysis.tcav.experiment import MAX_IMAGES, RANDOM_CAP
    from dashapp.collections import Collection, Member
    from dashapp.service.concepts.work import plan, total

    big = {name: Collection(name * 64, name, [Member(f"{i:064x}", f"{i}.png") for i in range(5000)])
           for name in "abc"}
    request = ConceptRequest("m", "w", ("a",), "b", 0, "c", ("l1", "l2"), 10, 0)
    used = plan(request, big)
    assert len(used["concepts"]["a"]) == MAX_IMAGES and len(used["random"]) == RANDOM_CAP
    assert len(used["images"]) == MAX_IMAGES and used == plan(request, big)
    assert total(request, used) == 2 * MAX_IMAGES + RANDOM_CAP + 10 * 2 * 2


def test_a_start_after_cancel_stops_the_earlier_run_still_going(setup, monkeypatch) -> None:
    jobs, ids = setup
    gate, entered = threading.Event(), threading.Event()
    import dashapp.service.concepts.jobs as module

    real, runs = module.compute, []

    def slow(request, used, registry, collections, images, tick):
        def held(units: int) -> None:
            entered.set()
            gate.wait(30)
            tick(units)

        try:
            runs.append(real(request, used, registry, collections, images, held))
        except module.Cancelled:
            runs.append(None)
            raise
        return runs[-1]

    monkeypatch.setattr(module, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(module, "compute", slow)
    job = jobs.start(body(ids))
    first = jobs.threads[job]
    assert entered.wait(30)
    jobs.cancel(job)
    assert jobs.start(body(ids)) == job  # again, while the first run still waits
    second = jobs.threads[job]
    assert second is not first
    gate.set()
    first.join(60)
    second.join(120)
    assert runs.count(None) == 1 and len(runs) == 2  # the first stopped, the second finished
    assert jobs.status(job)["state"] == "done"
