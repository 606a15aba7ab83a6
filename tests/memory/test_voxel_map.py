from __future__ import annotations

import numpy as np

from robomem.memory.voxel_map import VoxelMap, pack, unpack


def test_pack_roundtrip_including_negative_indices() -> None:
    idx = np.array([[0, 0, 0], [-5, 7, -1_000_000], [1_000_000, -1, 3]], np.int64)
    assert (unpack(pack(idx)) == idx).all()


def test_add_dedups_within_and_across_frames() -> None:
    vm = VoxelMap(voxel=0.1)
    assert vm.add(np.array([[0.01, 0.01, 0.01], [0.09, 0.02, 0.03], [0.15, 0.0, 0.0]])) == 2
    assert vm.add(np.array([[0.05, 0.05, 0.05], [-0.05, 0.0, 0.0]])) == 1
    assert len(vm) == 3
    np.testing.assert_allclose(vm.centers(), [[-0.05, 0.05, 0.05], [0.05, 0.05, 0.05],
                                              [0.15, 0.05, 0.05]])
    assert vm.contains(np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])).tolist() == [True, False]


def test_matches_a_reference_over_many_random_frames() -> None:
    rng = np.random.default_rng(0)
    vm = VoxelMap(voxel=0.05)
    frames = [rng.uniform(-3, 3, (3000, 3)) for _ in range(12)]
    added = sum(vm.add(f) for f in frames)
    ref = np.unique(np.floor(np.vstack(frames) / 0.05).astype(np.int64), axis=0)
    assert added == len(vm) == len(ref)
    assert (np.sort(pack(ref)) == vm.keys()).all()


def test_ignores_non_finite_points_and_empty_frames() -> None:
    vm = VoxelMap()
    assert vm.add(np.array([[np.nan, 0, 0], [np.inf, 1, 1], [0.2, 0.2, 0.2]])) == 1
    assert vm.add(np.zeros((0, 3))) == 0
    assert len(vm) == 1


def test_cap_and_reset() -> None:
    vm = VoxelMap(voxel=1.0, max_voxels=3)
    assert vm.add(np.arange(15, dtype=float).reshape(5, 3)) == 3
    assert vm.full and len(vm) == 3
    assert vm.add(np.array([[100.0, 0, 0]])) == 0
    vm.reset()
    assert len(vm) == 0 and not vm.full and vm.centers().shape == (0, 3)


def test_to_o3d_voxel_grid() -> None:
    vm = VoxelMap(voxel=0.1)
    vm.add(np.array([[0.0, 0.0, 0.0], [0.3, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    grid = vm.to_o3d()
    assert len(grid.get_voxels()) == 3
    assert abs(grid.voxel_size - 0.1) < 1e-9
    assert len(VoxelMap().to_o3d().get_voxels()) == 0
