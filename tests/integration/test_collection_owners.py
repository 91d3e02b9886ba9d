"""Users kept apart (issue 25): with DASHAPP_AUTH on, a collection and its
scans belong to the user who made them. Two users through the real Flask
app (basic auth, and the proxy's header): the other user can neither list,
read, scan nor cancel an unshared collection (404, as for a missing one),
reads it once shared, cannot cancel the owner's scan (403); the same
images uploaded again by the other user under other labels make their own
collection and leave the owner's labels alone; a user's quota is refused
with a clear 413. Without auth, everything is shared as before."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image

from devtools.servers import wait_for

ALICE, BOB = ("alice", "alice's long password"), ("bob", "bob's long password too")
MODEL = "resnet18"


def png(seed: int, size: tuple[int, int] = (40, 30)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def basic(user: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()}


def upload(client: Any, headers: dict[str, str], labels: str, seeds: range = range(4), **form: Any) -> Any:
    files = [(io.BytesIO(png(seed)), f"{labels[i % len(labels)]}/{seed}.png") for i, seed in enumerate(seeds)]
    return client.post("/api/collections", data={"files": files, **form}, headers=headers,
                       content_type="multipart/form-data")


@pytest.fixture(scope="module")
def app(make_app: Any) -> Any:
    return make_app(auth="basic", auth_users=(ALICE, BOB), scan_shard=4, scan_batch=2, scans_per_user=2)


@pytest.fixture(scope="module")
def client(app: Any) -> Any:
    return app.server.test_client()


def callback(client: Any, app: Any, output: str, inputs: list[tuple[str, str, Any]], user: tuple[str, str],
             state: list[tuple[str, str, Any]] = ()) -> dict[str, Any]:
    """One page callback through Flask as ``user``'s browser sends it: its outputs by "id.property"."""
    key = next(key for key in app.callback_map if output in key)
    outputs = [part.split("@")[0] for part in key.strip(".").split("...")]
    specs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in outputs]
    body = {"output": key, "outputs": specs if key.startswith("..") else specs[0],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}
    answer = client.post("/_dash-update-component", json=body, headers=basic(user))
    if answer.status_code == 204:
        return {}
    assert answer.status_code == 200, answer.data[:300]
    response = json.loads(answer.data)["response"]
    return {f"{i}.{p}": v for i, props in response.items() for p, v in props.items()}


@pytest.fixture(scope="module")
def alices(client: Any) -> dict[str, Any]:
    """Alice's collection (labels a, b), scanned."""
    answer = upload(client, basic(ALICE), "ab", name="alice's")
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["owner"] == "alice" and body["shared"] is False
    base = f"/api/collections/{body['id']}/scan?model={MODEL}"
    assert client.post(base, headers=basic(ALICE)).status_code == 202
    wait_for(lambda: client.get(base, headers=basic(ALICE)).json["state"] == "done", 120, "alice's scan")
    return body


def test_another_user_can_neither_list_read_scan_nor_cancel_an_unshared_collection(client, alices) -> None:
    base = f"/api/collections/{alices['id']}"
    assert [c["id"] for c in client.get("/api/collections", headers=basic(ALICE)).json["collections"]] \
        == [alices["id"]]
    assert alices["id"] not in [c["id"] for c in client.get("/api/collections", headers=basic(BOB)).json[
        "collections"]]
    for method, path in [("GET", base), ("GET", f"{base}/scan?model={MODEL}"), ("POST", f"{base}/scan?model={MODEL}"),
                         ("DELETE", f"{base}/scan?model={MODEL}"),
                         ("GET", f"{base}/top?model={MODEL}&layer=conv1&filter=0"),
                         ("GET", f"{base}/filters?model={MODEL}&layer=conv1")]:
        answer = client.open(path, method=method, headers=basic(BOB))
        assert answer.status_code == 404, (method, path, answer.json)
        # The same answer as for an id that does not exist: nothing says it does.
        assert answer.json == client.open(path.replace(alices["id"], "0" * 64), method=method,
                                          headers=basic(BOB)).json
    assert client.get(f"{base}/top?model={MODEL}&layer=conv1&filter=0", headers=basic(ALICE)).status_code == 200


def test_once_shared_another_user_reads_it_but_cannot_unshare_it_or_cancel_its_owners_scan(client, make_app) -> None:
    mine = upload(client, basic(ALICE), "xy", seeds=range(20, 23)).json
    base = f"/api/collections/{mine['id']}"
    assert client.get(base, headers=basic(BOB)).status_code == 404
    assert client.patch(base, json={"shared": "yes"}, headers=basic(ALICE)).status_code == 400
    shared = client.patch(base, json={"shared": True}, headers=basic(ALICE))
    assert shared.status_code == 200 and shared.json["shared"] is True
    assert client.get(base, headers=basic(BOB)).json["name"] == mine["name"]
    assert mine["id"] in [c["id"] for c in client.get("/api/collections", headers=basic(BOB)).json["collections"]]
    refused = client.patch(base, json={"shared": False}, headers=basic(BOB))
    assert refused.status_code == 403 and "Only the user who created" in refused.json["error"]
    # Alice's scan: Bob may follow it but not cancel it; Alice may.
    assert client.post(f"{base}/scan?model={MODEL}", headers=basic(ALICE)).status_code == 202
    cancel = client.delete(f"{base}/scan?model={MODEL}", headers=basic(BOB))
    assert cancel.status_code == 403 and "another user" in cancel.json["error"]
    assert client.get(f"{base}/scan?model={MODEL}", headers=basic(BOB)).status_code == 200
    assert client.delete(f"{base}/scan?model={MODEL}", headers=basic(ALICE)).status_code == 200
    assert client.patch(base, json={"shared": False}, headers=basic(ALICE)).json["shared"] is False
    assert client.get(base, headers=basic(BOB)).status_code == 404


def test_the_same_images_under_other_labels_make_the_uploaders_own_collection(client, alices) -> None:
    bobs = upload(client, basic(BOB), "pq", name="bob's")  # Alice's images, other labels
    assert bobs.status_code == 201
    assert bobs.json["id"] != alices["id"] and bobs.json["owner"] == "bob" and bobs.json["labels"] == ["p", "q"]
    kept = client.get(f"/api/collections/{alices['id']}", headers=basic(ALICE)).json
    assert kept["labels"] == ["a", "b"] and kept["name"] == "alice's"
    status = client.get(f"/api/collections/{alices['id']}/scan?model={MODEL}", headers=basic(ALICE)).json
    assert status["state"] == "done"  # her scan is still hers and still valid
    assert [c["id"] for c in client.get("/api/collections", headers=basic(BOB)).json["collections"]] \
        == [bobs.json["id"]]


def test_the_dataset_page_lists_only_what_the_user_may_read(client, alices) -> None:
    body = {"output": "..dataset-collection.options...dataset-collection.value..",
            "outputs": [{"id": "dataset-collection", "property": "options"},
                        {"id": "dataset-collection", "property": "value"}],
            "inputs": [{"id": "ready-state", "property": "data", "value": {"model": MODEL, "lang": "en"}}],
            "changedPropIds": ["ready-state.data"], "state": []}

    def listed(user: tuple[str, str]) -> list[str]:
        answer = client.post("/_dash-update-component", json=body, headers=basic(user))
        assert answer.status_code == 200, answer.data[:300]
        options = json.loads(answer.data)["response"]["dataset-collection"]["options"]
        return [option["value"] for option in options]

    assert alices["id"] in listed(ALICE)
    assert alices["id"] not in listed(BOB)


def test_a_users_quota_is_refused_with_a_clear_413_and_does_not_touch_another_users(make_app) -> None:
    one = len(png(40))
    client = make_app(auth="basic", auth_users=(ALICE, BOB), collection_user_max_bytes=3 * one).server.test_client()
    assert upload(client, basic(ALICE), "a", seeds=range(40, 42)).status_code == 201
    refused = upload(client, basic(ALICE), "a", seeds=range(42, 44))
    assert refused.status_code == 413 and "quota" in refused.json["error"]
    assert len(client.get("/api/collections", headers=basic(ALICE)).json["collections"]) == 1
    # The same upload again is the same collection: it costs nothing more.
    assert upload(client, basic(ALICE), "a", seeds=range(40, 42)).status_code == 201
    assert upload(client, basic(BOB), "a", seeds=range(42, 44)).status_code == 201


def test_the_proxys_user_header_owns_collections_too(make_app) -> None:
    secret = "a proxy secret long enough"
    client = make_app(auth="header", auth_proxy_secret=secret).server.test_client()
    carol = {"X-Forwarded-User": "carol", "X-Proxy-Secret": secret}
    dave = {"X-Forwarded-User": "dave", "X-Proxy-Secret": secret}
    made = upload(client, carol, "a", seeds=range(60, 62))
    assert made.status_code == 201 and made.json["owner"] == "carol"
    assert client.get(f"/api/collections/{made.json['id']}", headers=dave).status_code == 404
    assert client.get(f"/api/collections/{made.json['id']}", headers=carol).status_code == 200


def test_without_auth_everything_is_shared_as_before(make_app) -> None:
    client = make_app().server.test_client()
    first = upload(client, {}, "ab", seeds=range(70, 73)).json
    again = upload(client, {}, "pq", seeds=range(70, 73)).json
    assert first["owner"] is None and again["id"] == first["id"] and again["labels"] == ["p", "q"]
    assert client.get(f"/api/collections/{first['id']}").json["labels"] == ["p", "q"]
    assert client.post(f"/api/collections/{first['id']}/scan?model={MODEL}").status_code == 202
    assert client.delete(f"/api/collections/{first['id']}/scan?model={MODEL}").status_code == 200


def test_a_concept_test_cannot_name_another_users_unshared_collection(client, alices) -> None:
    body = {"model": MODEL, "concepts": [alices["id"]], "random": "f" * 64, "class": 0, "images": alices["id"],
            "runs": 2}
    refused = client.post("/api/concepts", json=body, headers=basic(BOB))
    assert refused.status_code == 404 and alices["id"] in refused.json["error"]
    # Alice names her own: it is found, and the missing random collection is the one refused.
    mine = client.post("/api/concepts", json=body, headers=basic(ALICE))
    assert mine.status_code == 404 and "f" * 64 in mine.json["error"] and alices["id"] not in mine.json["error"]


def test_the_dataset_pages_shared_box_is_the_owners_to_change(client, app) -> None:
    made = upload(client, basic(ALICE), "mn", seeds=range(80, 82)).json
    ready = {"model": MODEL, "lang": "en", "collection": made["id"]}
    box = "dataset-shared-row.hidden"
    shown = callback(client, app, box, [("ready-state", "data", ready)], ALICE)
    assert shown == {"dataset-shared.value": False, "dataset-shared.disabled": False, box: False}
    said = callback(client, app, "dataset-upload-message.children@", [("dataset-shared", "value", True)], ALICE,
                    state=[("ready-state", "data", ready)])
    assert "now shared" in json.dumps(said)
    assert client.get(f"/api/collections/{made['id']}", headers=basic(BOB)).json["shared"] is True
    # Bob sees it shared, and cannot change it: the box is disabled, and a forged change does nothing.
    seen = callback(client, app, box, [("ready-state", "data", ready)], BOB)
    assert seen["dataset-shared.value"] is True and seen["dataset-shared.disabled"] is True
    callback(client, app, "dataset-upload-message.children@", [("dataset-shared", "value", False)], BOB,
             state=[("ready-state", "data", ready)])
    assert client.get(f"/api/collections/{made['id']}", headers=basic(ALICE)).json["shared"] is True


def test_without_auth_the_shared_box_is_hidden(make_app) -> None:
    app = make_app()
    shown = callback(app.server.test_client(), app, "dataset-shared-row.hidden",
                     [("ready-state", "data", {"model": MODEL, "lang": "en"})], ALICE)
    assert shown["dataset-shared-row.hidden"] is True


def test_only_the_user_who_started_a_concept_test_may_cancel_it(make_app, monkeypatch) -> None:
    from dashapp.service.concepts import runtime

    monkeypatch.setattr(runtime, "in_process", lambda _jobs, _job: None)  # the job stays queued: nothing computed
    client = make_app(auth="basic", auth_users=(ALICE, BOB)).server.test_client()
    ids = []
    for seeds in (range(90, 94), range(94, 102), range(102, 104)):
        made = upload(client, basic(ALICE), "c", seeds=seeds, shared="1").json
        assert made["shared"] is True
        ids.append(made["id"])
    body = {"model": MODEL, "concepts": [ids[0]], "random": ids[1], "class": 0, "images": ids[2], "runs": 2}
    started = client.post("/api/concepts", json=body, headers=basic(ALICE))
    assert started.status_code == 202, started.json
    job = started.json["id"]
    assert client.post("/api/concepts", json=body, headers=basic(BOB)).json["id"] == job  # the same test, joined
    refused = client.delete(f"/api/concepts/{job}", headers=basic(BOB))
    assert refused.status_code == 403 and "another user" in refused.json["error"]
    assert client.get(f"/api/concepts/{job}", headers=basic(BOB)).json["state"] == "queued"
    assert client.delete(f"/api/concepts/{job}", headers=basic(ALICE)).json["state"] == "cancelled"
