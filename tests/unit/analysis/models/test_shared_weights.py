"""Weights shared between worker processes: one file, mapped by every
process, holding exactly the values each would have loaded on its own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torchvision

from dashapp.analysis.models.registry import ModelRegistry
from dashapp.analysis.models.shared_weights import share
from dashapp.config.settings import Settings
from tests.support.mapped_files import mapped_files


def test_two_registries_map_one_file_holding_the_seeded_weights(tmp_path: Path) -> None:
    # Two registries in one process stand for two workers: same seed, same directory.
    first = ModelRegistry(("resnet18",), policy="random", seed=3, device="cpu", shared_dir=tmp_path).get("resnet18")
    second = ModelRegistry(("resnet18",), policy="random", seed=3, device="cpu", shared_dir=tmp_path).get("resnet18")
    alone = ModelRegistry(("resnet18",), policy="random", seed=3, device="cpu").get("resnet18")
    files = sorted(tmp_path.glob("*.pt"))
    assert [f.name.split("-torch")[0] for f in files] == ["resnet18-random3"]
    assert not list(tmp_path.glob("*.part"))  # no scratch file left behind
    # Both map that file; the one without a directory holds its own copy.
    assert mapped_files(first.module) == mapped_files(second.module) == {str(files[0])}
    assert mapped_files(alone.module) == set()
    for name, value in alone.module.state_dict().items():
        assert torch.equal(first.module.state_dict()[name], value), name
    image = torch.rand(1, 3, 64, 64)
    assert torch.equal(first.module(image), alone.module(image))


def test_an_existing_file_is_mapped_not_written_again(tmp_path: Path) -> None:
    ModelRegistry(("resnet18",), policy="random", seed=0, device="cpu", shared_dir=tmp_path).get("resnet18")
    (path,) = tmp_path.glob("*.pt")
    written = path.stat().st_mtime_ns
    ModelRegistry(("resnet18",), policy="random", seed=0, device="cpu", shared_dir=tmp_path).get("resnet18")
    assert path.stat().st_mtime_ns == written


def test_a_file_with_other_values_is_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    torch.manual_seed(1)
    module = torchvision.models.resnet18()
    own = {name: value.clone() for name, value in module.state_dict().items()}
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "key.pt")  # other random values
    with caplog.at_level(logging.WARNING):
        assert not share(module, tmp_path, "key")
    assert "holds other values" in caplog.text
    assert all(torch.equal(module.state_dict()[name], value) for name, value in own.items())
    assert mapped_files(module) == set()


def test_an_unwritable_directory_leaves_the_weights_private(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with caplog.at_level(logging.WARNING):
        loaded = ModelRegistry(("resnet18",), policy="random", seed=0, device="cpu",
                               shared_dir=blocked / "weights").get("resnet18")
    assert "not shared between workers" in caplog.text
    assert mapped_files(loaded.module) == set()
    assert loaded.module(torch.rand(1, 3, 32, 32)).shape == (1, 1000)


def test_pretrained_weights_are_shared_under_their_content_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    checkpoint = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    checkpoint.parent.mkdir(parents=True)
    torch.manual_seed(5)
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), checkpoint)
    loaded = ModelRegistry(("resnet18",), policy="pretrained", device="cpu",
                           shared_dir=tmp_path / "shared").get("resnet18")
    (shared,) = (tmp_path / "shared").glob("*.pt")
    assert shared.name.startswith(f"resnet18-{loaded.weights.tag}-")
    assert mapped_files(loaded.module) == {str(shared)}
    assert torch.equal(loaded.module.fc.weight, reference.fc.weight)


def test_the_app_shares_weights_in_its_data_directory(tmp_path: Path,
                                                      make_settings: Callable[..., Settings]) -> None:
    from dashapp.service.catalog import ModelCatalog

    settings = make_settings(data_dir=tmp_path, models=("resnet18",), weights_dir=None)
    catalog = ModelCatalog(settings)
    assert catalog.registry.shared_dir == settings.shared_weights_dir == tmp_path / "weights"
    assert mapped_files(catalog.model("resnet18").module) == {str(p) for p in (tmp_path / "weights").glob("*.pt")}


def test_apps_on_one_host_can_share_one_weights_folder(tmp_path: Path) -> None:
    """DASHAPP_WEIGHTS_DIR moves the files out of the data directory: two apps
    with their own data map one file, and neither data directory holds one."""
    from dashapp.config.settings import load_settings
    from dashapp.service.catalog import ModelCatalog

    modules = []
    for name in ("a", "b"):
        settings = load_settings({"DASHAPP_DATA_DIR": str(tmp_path / name), "DASHAPP_WEIGHTS_DIR": str(tmp_path / "w"),
                                  "DASHAPP_WEIGHTS": "random", "DASHAPP_DEVICE": "cpu", "DASHAPP_MODELS": "resnet18"})
        assert settings.shared_weights_dir == tmp_path / "w"
        modules.append(ModelCatalog(settings).model("resnet18").module)
    (shared,) = (tmp_path / "w").glob("*.pt")
    assert mapped_files(modules[0]) == mapped_files(modules[1]) == {str(shared)}
    assert not list(tmp_path.glob("[ab]/**/*.pt"))

