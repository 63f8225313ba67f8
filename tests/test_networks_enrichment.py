import numpy as np
import pytest
from scipy import stats

from vlmbrain.networks.enrichment import layer_overlap_table, overlap_stats
from vlmbrain.stats import fdr_bh


def _masks(n_vox=200):
    masks = np.zeros((3, n_vox), bool)
    masks[0, :50] = True
    masks[1, 50:120] = True
    masks[2, 120:150] = True
    return masks


def test_overlap_stats_values_match_definitions():
    masks = _masks()
    maps = np.zeros((3, 200), bool)
    maps[0, :40] = True  # inside network 0
    maps[1, ::10] = True  # spread
    res = overlap_stats(maps, masks)
    assert res["overlap_rate"][0, 0] == pytest.approx(40 / 50)
    assert res["dice"][0, 0] == pytest.approx(2 * 40 / (40 + 50))
    assert res["overlap_rate"][0, 1] == 0 and res["dice"][0, 1] == 0
    for i in range(3):
        for j in range(3):
            k = int((maps[i] & masks[j]).sum())
            expect = stats.hypergeom.sf(k - 1, 200, masks[j].sum(), maps[i].sum()) if maps[i].any() else 1
            assert res["p"][i, j] == pytest.approx(expect)
    assert res["p"][0, 0] < 1e-20
    assert res["p"][0, 1] == pytest.approx(1.0)  # no overlap: not enriched
    assert np.all(res["p"][2] == 1) and np.all(res["dice"][2] == 0)  # empty map


def test_overlap_stats_rejects_mismatched_space():
    with pytest.raises(ValueError, match="grayordinate"):
        overlap_stats(np.zeros((1, 10), bool), np.zeros((1, 11), bool))
    with pytest.raises(ValueError, match="boolean"):
        overlap_stats(np.zeros((1, 10)), np.zeros((1, 10), bool))


def test_layer_overlap_table_signs_fdr_and_drives():
    masks = _masks()
    act = np.zeros((2, 200), bool)
    deact = np.zeros((2, 200), bool)
    act[0, :45] = True
    deact[1, 120:150] = True
    table = layer_overlap_table(act, deact, ["vision", "language", "default"], masks, q=0.05)
    assert list(table.columns) == ["atom", "network", "sign", "overlap_rate", "dice", "p", "q", "drives"]
    assert len(table) == 2 * 3 * 2
    np.testing.assert_allclose(np.sort(table["q"]), np.sort(stats.false_discovery_control(table["p"])))
    driven = set(map(tuple, table.loc[table["drives"], ["atom", "network", "sign"]].to_numpy()))
    assert driven == {(0, "vision", 1), (1, "default", -1)}


def test_fdr_bh_matches_scipy_and_ignores_nan():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(4, 50)) ** 3
    np.testing.assert_allclose(fdr_bh(p, axis=1), stats.false_discovery_control(p, axis=1))
    p[0, 3] = np.nan
    q = fdr_bh(p, axis=1)
    assert np.isnan(q[0, 3])
    ok = ~np.isnan(p[0])
    np.testing.assert_allclose(q[0, ok], stats.false_discovery_control(p[0, ok]))
