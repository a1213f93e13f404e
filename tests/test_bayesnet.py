"""The course's Bayesian network: hand-computed values and identities that must hold."""
import numpy as np
import pytest

from tinygrad_ift.classic import BayesNet, student_network

NET = student_network()


def test_marginals_computed_by_hand():
    # P(G=g0) = .2*.9*.5 + .2*.1*.9 + .8*.9*.1 + .8*.1*.3
    np.testing.assert_allclose(NET.query("G"), [0.204, 0.2316, 0.5644])
    np.testing.assert_allclose(NET.query("R"), [0.2 * 0.9 + 0.8 * 0.2, 0.2 * 0.1 + 0.8 * 0.8])
    # P(S=s0 | R=r1) = .2*.1 / .66
    np.testing.assert_allclose(NET.query("S", {"R": 1}), [0.02 / 0.66, 0.64 / 0.66])
    by_hand = 0.9 * np.array([.5, .3, .2]) + 0.1 * np.array([.9, .08, .02])  # R is blocked by S; D stays marginal
    np.testing.assert_allclose(NET.query("G", {"R": 1, "S": 0}), by_hand)


def test_explaining_away_and_a_child_as_evidence_by_hand():
    # D=d1, G=g2: P(s0) ∝ .2*.02, P(s1) ∝ .8*.3; then P(r0) = P(s0) .9 + P(s1) .2
    s0 = 0.2 * 0.02 / (0.2 * 0.02 + 0.8 * 0.3)
    np.testing.assert_allclose(NET.query("R", {"D": 1, "G": 2}), [0.9 * s0 + 0.2 * (1 - s0), 0.1 * s0 + 0.8 * (1 - s0)])
    # P(G=g1 | L=l1) = P(g1) P(l1|g1) / sum_g P(g) P(l1|g)
    joint_l1 = np.array([0.204 * 0.1, 0.2316 * 0.4, 0.5644 * 0.99])
    assert NET.query("G", {"L": 1})[1] == pytest.approx(joint_l1[1] / joint_l1.sum())


def test_do_on_a_variable_without_a_path_to_the_query_is_the_marginal():
    np.testing.assert_allclose(NET.query("R", do={"G": 2}), NET.query("R"))
    np.testing.assert_allclose(NET.query("G", do={"L": 1}), NET.query("G"))
    np.testing.assert_allclose(NET.query("D", do={"R": 0}), [0.9, 0.1])


def test_conditioning_differs_from_intervening():
    assert not np.allclose(NET.query("R", {"G": 2}), NET.query("R", do={"G": 2}))


def test_d_separated_evidence_changes_nothing():
    np.testing.assert_allclose(NET.query("R", {"D": 1}), NET.query("R"))  # R and D are independent
    np.testing.assert_allclose(NET.query("L", {"G": 1, "S": 0}), NET.query("L", {"G": 1}))  # G blocks S -> L
    np.testing.assert_allclose(NET.query("R", {"S": 1, "G": 0}), NET.query("R", {"S": 1}))  # S blocks
    assert not np.allclose(NET.query("R", {"D": 1, "G": 2}), NET.query("R", {"D": 0, "G": 2}))  # G is a collider


def test_joint_sums_to_one_and_queries_are_distributions():
    assert NET.joint().shape == (2, 2, 2, 3, 2) and NET.joint().sum() == pytest.approx(1.0)
    table = NET.query(["G", "R"], {"L": 1})
    assert table.shape == (3, 2) and table.sum() == pytest.approx(1.0)


def test_bad_input():
    with pytest.raises(ValueError, match="sum to 1"):
        BayesNet().add("A", [], [0.5, 0.6])
    with pytest.raises(ValueError, match="parents"):
        BayesNet().add("A", ["B"], [[0.5, 0.5]])
    with pytest.raises(KeyError, match="unknown variable 'Z'"):
        NET.query("Z")
    with pytest.raises(ValueError, match="outside"):
        NET.query("G", {"R": 2})
