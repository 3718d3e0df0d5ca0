"""Fold the elementwise chains of PP-OCRv4's ONNX files into fewer, cheaper nodes.

PP-OCRv4's text detector and recogniser (PP-LCNetV3 backbones, exported by paddle2onnx)
follow every convolution with a learnable affine (``Mul`` by a scalar, ``Add`` a scalar)
and a hard-swish written out as four nodes (``x * Clip(x + 3, 0, 6) / 6``), then another
scalar affine. onnxruntime's CPU provider runs each of those nodes as its own pass over
the feature map: on a 1280x736 picture about 40 % of the detector's time. The same
function, to float rounding, in fewer passes:

- a convolution's affine goes into its weights and bias;
- hard-swish becomes ``x * HardSigmoid(x)`` (alpha 1/6, beta 1/2: ``Clip(x + 3, 0, 6) / 6``);
- the affine after an activation goes into the next convolutions' weights and bias where
  every one of them is 1x1 (no padding, so the shift is exactly a bias), else becomes one
  ``BatchNormalization`` node (mean 0, variance 1, epsilon 0: ``s * x + b`` in one pass).

Used by ``export_models.py``; needs ``onnx`` and ``numpy`` only.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fold(model: Any) -> dict[str, int]:
    """Rewrite ``model`` (an ``onnx.ModelProto``) in place; returns how many of each fold it made."""
    from onnx import helper, numpy_helper

    graph = model.graph
    consts: dict[str, np.ndarray] = {}
    for n in graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    for init in graph.initializer:
        consts[init.name] = numpy_helper.to_array(init)
    nodes = list(graph.node)
    outputs = {o.name for o in graph.output}
    counts = {"conv_affine": 0, "hardswish": 0, "affine_into_1x1": 0, "affine_as_bn": 0}

    def consumers(name: str) -> list[Any]:
        return [n for n in nodes if name in n.input]

    def scalar(name: str) -> float | None:
        value = consts.get(name)
        return None if value is None or value.size != 1 else float(value.ravel()[0])

    def other(node: Any, name: str) -> str:
        return str(node.input[1] if node.input[0] == name else node.input[0])

    def only_consumer(name: str, op: str) -> Any | None:
        found = consumers(name)
        if name in outputs or len(found) != 1 or found[0].op_type != op:
            return None
        return found[0]

    def add_const(name: str, value: np.ndarray) -> str:
        graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))
        consts[name] = value
        return name

    def weights(conv: Any) -> tuple[np.ndarray, np.ndarray]:
        w = consts[conv.input[1]]
        b = consts[conv.input[2]] if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0], np.float32)
        return w.astype(np.float64), b.astype(np.float64)

    def set_weights(conv: Any, w: np.ndarray, b: np.ndarray, tag: str) -> None:
        while len(conv.input) < 3:
            conv.input.append("")
        conv.input[1] = add_const(f"{conv.output[0]}.{tag}.w", w)
        conv.input[2] = add_const(f"{conv.output[0]}.{tag}.b", b)

    def group(conv: Any) -> int:
        return next((int(helper.get_attribute_value(a)) for a in conv.attribute if a.name == "group"), 1)

    def affine_after(name: str) -> tuple[Any, float, Any, float] | None:
        """``Mul`` by a scalar then ``Add`` a scalar reading ``name``: (mul, s, add, b)."""
        mul = only_consumer(name, "Mul")
        s = None if mul is None else scalar(other(mul, name))
        add = None if s is None else only_consumer(mul.output[0], "Add")
        b = None if add is None else scalar(other(add, mul.output[0]))
        return None if b is None else (mul, s, add, b)

    # A convolution's own affine: conv(x) * s + c == conv'(x), weights s w and bias s b + c.
    for conv in [n for n in nodes if n.op_type == "Conv"]:
        found = affine_after(conv.output[0])
        if found is None:
            continue
        mul, s, add, b = found
        w, bias = weights(conv)
        set_weights(conv, w * s, bias * s + b, "affine")
        conv.output[0] = add.output[0]
        nodes.remove(mul)
        nodes.remove(add)
        counts["conv_affine"] += 1

    # Hard-swish written out: x * Clip(x + 3, 0, 6) / 6 -> x * HardSigmoid(x).
    for add in [n for n in nodes if n.op_type == "Add"]:
        x = next((i for i in add.input if scalar(other(add, i)) == 3.0 and scalar(i) is None), None)
        clip = None if x is None else only_consumer(add.output[0], "Clip")
        if clip is None or scalar(clip.input[1]) != 0.0 or scalar(clip.input[2]) != 6.0:
            continue
        mul = only_consumer(clip.output[0], "Mul")
        if mul is None or x not in mul.input:
            continue
        div = only_consumer(mul.output[0], "Div")
        if div is None or scalar(div.input[1]) != 6.0:
            continue
        at = nodes.index(add)
        for n in (add, clip, mul, div):
            nodes.remove(n)
        gate = f"{div.output[0]}.gate"
        nodes[at:at] = [
            helper.make_node("HardSigmoid", [x], [gate], alpha=1.0 / 6.0, beta=0.5),
            helper.make_node("Mul", [x, gate], [div.output[0]]),
        ]
        counts["hardswish"] += 1

    # The affine after an activation: into the next 1x1 convolutions, else one node.
    for mul in [n for n in nodes if n.op_type == "Mul"]:
        if mul not in nodes:
            continue
        inputs = [i for i in mul.input if scalar(i) is None]
        if len(inputs) != 1:
            continue
        found = affine_after(inputs[0])
        if found is None or found[0] is not mul:
            continue
        _, s, add, b = found
        nexts = consumers(add.output[0])
        convs = [n for n in nexts if n.op_type == "Conv"]
        if not convs:
            continue
        if add.output[0] not in outputs and len(convs) == len(nexts) and all(
            consts[c.input[1]].shape[2:] == (1, 1) and group(c) == 1 and c.input[0] == add.output[0] for c in convs
        ):
            for conv in convs:
                w, bias = weights(conv)
                set_weights(conv, w * s, bias + b * w.sum(axis=(1, 2, 3)), "input")
                conv.input[0] = inputs[0]
            counts["affine_into_1x1"] += 1
            nodes.remove(mul)
            nodes.remove(add)
            continue
        w = consts[convs[0].input[1]]
        channels = w.shape[1] * group(convs[0])
        name = add.output[0]
        params = [
            add_const(f"{name}.{tag}", np.full(channels, v, np.float64))
            for tag, v in (("scale", s), ("bias", b), ("mean", 0.0), ("var", 1.0))
        ]
        at = nodes.index(mul)
        nodes.remove(mul)
        nodes.remove(add)
        nodes.insert(at, helper.make_node("BatchNormalization", [inputs[0], *params], [name], epsilon=0.0))
        counts["affine_as_bn"] += 1

    # Drop what nothing reads any more.
    used = {i for n in nodes for i in n.input} | outputs
    nodes = [n for n in nodes if n.op_type != "Constant" or n.output[0] in used]
    inits = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    return counts
