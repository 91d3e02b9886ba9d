"""The collections API through Flask's test client: upload, scan in the
background (embedded default, no other service), top examples, crops, and
clear 4xx answers for bad input."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from devtools.servers import wait_for


def png(seed: int, size: tuple[int, int] = (40, 30)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client(make_app):
    return make_app(scan_shard=4, scan_batch=2).server.test_client()


@pytest.fixture(scope="module")
def scanned(client):
    files = [(io.BytesIO(png(i)), f"{'ab'[i % 2]}/{i}.png") for i in range(6)]
    files.append((io.BytesIO(b"not an image"), "readme.txt"))
    answer = client.post("/api/collections", data={"files": files, "name": "six"},
                         content_type="multipart/form-data")
    assert answer.status_code == 201, answer.json
    body = answer.json
    started = client.post(f"/api/collections/{body['id']}/scan?model=resnet18")
    assert started.status_code == 202
    wait_for(lambda: client.get(f"/api/collections/{body['id']}/scan?model=resnet18").json["state"] == "done", 120,
             "the scan")
    return body


def test_upload_lists_the_images_and_every_rejected_file(scanned) -> None:
    assert scanned["images"] == 6 and scanned["name"] == "six"
    assert scanned["labels"] == ["a", "b"]
    assert [r["name"] for r in scanned["rejected"]] == ["readme.txt"]
    assert scanned["rejected"][0]["reason"]


def test_scan_status_top_examples_and_filters(client, scanned) -> None:
    base = f"/api/collections/{scanned['id']}"
    status = client.get(f"{base}/scan?model=resnet18").json
    assert status == {**status, "state": "done", "done": 6, "total": 6}
    top = client.get(f"{base}/top?model=resnet18&layer=layer1.0.conv1&filter=3&k=4").json
    assert len(top) == 4
    values = [example["value"] for example in top]
    assert values == sorted(values, reverse=True) and all(np.isfinite(values))
    assert all(len(example["box"]) == 4 and example["box"][2] <= 40 and example["box"][3] <= 30 for example in top)
    filters = client.get(f"{base}/filters?model=resnet18&layer=layer1.0.conv1&sort=firing").json
    rates = [row["firing_rate"] for row in filters["filters"]]
    assert len(rates) == 64 and rates == sorted(rates, reverse=True)
    assert all(row["selectivity"] is not None and -1 <= row["selectivity"] <= 1 for row in filters["filters"])
    listed = client.get("/api/collections").json
    assert [c["id"] for c in listed["collections"]] == [scanned["id"]]


def test_crops_are_jpeg_tiles_of_stored_images(client, scanned) -> None:
    top = client.get(f"/api/collections/{scanned['id']}/top?model=resnet18&layer=conv1&filter=0&k=1").json[0]
    box = ",".join(str(v) for v in top["box"])
    answer = client.get(f"/api/crops/{top['image']}.jpg?box={box}")
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    tile = Image.open(io.BytesIO(answer.data))
    assert max(tile.size) == 112
    assert client.get(f"/api/crops/{top['image']}.jpg?box=nan,0,1,1").status_code == 400
    assert client.get(f"/api/crops/{'0' * 64}.jpg?box=0,0,1,1").status_code == 404


def test_a_zip_upload_and_hostile_or_missing_input_get_clear_4xx(client, scanned) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x/1.png", png(50))
        archive.writestr("../../2.png", png(51))
        archive.writestr("inner.zip", b"PK\x03\x04nested")
    answer = client.post("/api/collections", data=buffer.getvalue(), content_type="application/zip")
    assert answer.status_code == 201 and answer.json["images"] == 2
    assert answer.json["rejected"] == [{"name": "inner.zip", "reason": "nested archive skipped"}]
    only_junk = client.post("/api/collections", data={"files": [(io.BytesIO(b"junk"), "a.txt")]},
                            content_type="multipart/form-data")
    assert only_junk.status_code == 400 and "No usable image" in only_junk.json["error"]
    base = f"/api/collections/{scanned['id']}"
    cases = [
        (f"{base}/top?model=resnet18&layer=conv1", 400),  # no filter
        (f"{base}/top?model=resnet18&layer=conv1&filter=64", 404),
        (f"{base}/top?model=resnet18&layer=nope&filter=1", 404),
        (f"{base}/top?model=vgg99&layer=conv1&filter=1", 404),
        (f"{base}/top?model=resnet18&layer=conv1&filter=1&k=99", 400),
        (f"{base}/top?model=alexnet&layer=features.0&filter=1", 409),  # not scanned with alexnet
        (f"/api/collections/{'f' * 64}/scan?model=resnet18", 404),
        (f"{base}/filters?model=resnet18&layer=conv1&sort=random", 400),
    ]
    for url, status in cases:
        answer = client.get(url)
        assert answer.status_code == status, (url, answer.json)
        assert answer.json["error"]


def test_the_selectivity_sort_has_a_minimum_firing_rate_and_counts_what_it_leaves_out(client, scanned) -> None:
    base = f"/api/collections/{scanned['id']}/filters?model=resnet18&layer=layer1.0.conv1"
    everything = client.get(f"{base}&sort=selectivity&min_firing_rate=0").json
    assert everything["left_out"] == 0 and len(everything["filters"]) == 64
    default = client.get(f"{base}&sort=selectivity").json
    assert default["min_firing_rate"] == 0.1
    rare = [f["filter"] for f in everything["filters"] if f["firing_rate"] < 0.1]
    assert default["left_out"] == len(rare) and len(default["filters"]) == 64 - len(rare)
    assert all(f["firing_rate"] >= 0.1 for f in default["filters"])
    strict = client.get(f"{base}&sort=selectivity&min_firing_rate=1").json
    assert strict["left_out"] == sum(f["firing_rate"] < 1 for f in everything["filters"])
    by_peak = client.get(f"{base}&sort=peak&min_firing_rate=1").json
    assert by_peak["left_out"] == 0 and len(by_peak["filters"]) == 64  # only the selectivity sort leaves any out
    for bad in ("2", "-1", "x"):
        answer = client.get(f"{base}&sort=selectivity&min_firing_rate={bad}")
        assert answer.status_code == 400 and "min_firing_rate" in answer.json["error"]
