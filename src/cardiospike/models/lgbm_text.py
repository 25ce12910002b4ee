"""Checks of a LightGBM model in text form, before LightGBM's native loader sees it.

LightGBM's loader trusts its input: a truncated file or an out-of-range index in a tree makes the process crash
(segmentation fault, abort) or loop, which no ``try`` can catch. A model of this package is LightGBM's text of
binary trees over numerical features, so everything its predictions read is checked here, in pure Python: the
header, the tree sizes it declares (the loader reads by them), and in each tree the lengths of the arrays, the
feature indices, the decision types and the child links (each node has one parent, and links point to later
nodes, as LightGBM writes them: so no link can form a cycle).
"""

from __future__ import annotations

import itertools

import numpy as np

#: Numerical decision types: bit 0 (categorical) unset, missing-value type (bits 2-3) none, zero or NaN.
_DECISION_TYPES = {dt for dt in range(16) if dt & 1 == 0 and (dt >> 2) & 3 != 3}
_INTERNAL = ("split_feature", "threshold", "decision_type", "left_child", "right_child")
_OPTIONAL_INTERNAL = ("split_gain", "internal_value", "internal_weight", "internal_count")
_OPTIONAL_LEAF = ("leaf_weight", "leaf_count")


class ModelTextError(ValueError):
    """A LightGBM model text that this package's models never are; the message says what is wrong."""


def check_model_text(text: str) -> int:
    """Check a LightGBM model's text (see the module docstring); returns its number of features."""
    head, sep, rest = text.partition("\nTree=")
    if not sep:
        raise ModelTextError("no trees")
    header = _pairs(head.splitlines())
    for key, expected in (("num_class", "1"), ("num_tree_per_iteration", "1")):
        if header.get(key) != expected:
            raise ModelTextError(f"{key} is {header.get(key)!r}, not {expected}: not a binary classifier")
    if not header.get("objective", "").startswith("binary"):
        raise ModelTextError("the objective is not binary")
    max_feature = _int(header, "max_feature_idx")
    if max_feature < 0:
        raise ModelTextError("max_feature_idx is negative")
    trees = _split_trees("Tree=" + rest, header)
    for i, block in enumerate(trees):
        try:
            _check_tree(block, max_feature)
        except ModelTextError as exc:
            raise ModelTextError(f"tree {i}: {exc}") from None
    return max_feature + 1


def _split_trees(body: str, header: dict[str, str]) -> list[str]:
    """The text of each tree, cut where ``tree_sizes`` says (as the loader cuts it), and checked to be whole."""
    sizes_text = header.get("tree_sizes")
    end = body.find("end of trees")
    if end < 0:
        raise ModelTextError("truncated: no 'end of trees'")
    if sizes_text is None:
        blocks = [b for b in body[:end].split("\n\n\n") if b.strip()]
    else:
        try:
            sizes = [int(s) for s in sizes_text.split()]
        except ValueError:
            raise ModelTextError("tree_sizes are not integers") from None
        if any(s <= 0 for s in sizes) or sum(sizes) > end:
            raise ModelTextError("tree_sizes reach past the trees: the file is truncated or altered")
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        blocks = [body[a:b] for a, b in itertools.pairwise(offsets)]
    for i, block in enumerate(blocks):
        if not block.startswith(f"Tree={i}\n"):
            raise ModelTextError(f"tree {i} is not where the model says it is")
    if not blocks:
        raise ModelTextError("no trees")
    return blocks


def _check_tree(block: str, max_feature: int) -> None:
    fields = _pairs(block.splitlines()[1:])
    n_leaves = _int(fields, "num_leaves")
    if n_leaves < 1:
        raise ModelTextError("num_leaves is below 1")
    if fields.get("num_cat", "0") != "0" or fields.get("is_linear", "0") != "0":
        raise ModelTextError("categorical or linear trees are not used by this package")
    leaf_value = _numbers(fields, "leaf_value", n_leaves, float)
    if not np.isfinite(leaf_value).all():
        raise ModelTextError("leaf_value holds a value that is not finite")
    for key in _OPTIONAL_LEAF:
        if key in fields:
            _numbers(fields, key, n_leaves, float)
    if n_leaves == 1:
        return
    n_internal = n_leaves - 1
    feature, threshold, decision, left, right = (
        _numbers(fields, key, n_internal, float if key == "threshold" else int) for key in _INTERNAL
    )
    for key in _OPTIONAL_INTERNAL:
        if key in fields:
            _numbers(fields, key, n_internal, float)
    if ((feature < 0) | (feature > max_feature)).any():
        raise ModelTextError("split_feature holds a feature the model does not have")
    if np.isnan(threshold).any() or not np.isin(decision, list(_DECISION_TYPES)).all():
        raise ModelTextError("a split's threshold or decision type is invalid")
    children = np.concatenate([left, right])
    internal = children[children >= 0]
    leaves = ~children[children < 0]
    parents = np.concatenate([np.arange(n_internal)] * 2)[children >= 0]
    if not (
        np.array_equal(np.sort(internal), np.arange(1, n_internal))
        and np.array_equal(np.sort(leaves), np.arange(n_leaves))
        and (internal > parents).all()
    ):
        raise ModelTextError("the child links do not form a tree")


def _pairs(lines: list[str]) -> dict[str, str]:
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _int(fields: dict[str, str], key: str) -> int:
    try:
        return int(fields[key])
    except (KeyError, ValueError):
        raise ModelTextError(f"{key} is missing or not an integer") from None


def _numbers(fields: dict[str, str], key: str, n: int, kind: type) -> np.ndarray:
    try:
        values = np.array(fields[key].split(), dtype=np.float64 if kind is float else np.int64)
    except KeyError:
        raise ModelTextError(f"{key} is missing") from None
    except ValueError:
        raise ModelTextError(f"{key} holds a value that is not a number") from None
    if values.size != n:
        raise ModelTextError(f"{key} has {values.size} values, not {n}")
    return values
