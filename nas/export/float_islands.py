"""Put back into int8 the UNPACKs the TFLite quantizer sometimes leaves in float.

Root cause (measured on TF 2.21, e.g. CRNN ``[4,10,4,2,2,2,10,12]`` at clip_ms=300): `tf_graph` folds
the zero initial state of a recurrent layer, so step 0 of the GRU reset gate's (and the LSTM forget
gate's) batched input projection has no consumer: its UNPACK has a dead output. The MLIR quantizer
gives UNPACK's results the input's scale by propagation, and for a result without users that
propagation depends on the order it visits values, which varies from run to run in one process. In
roughly one conversion in three it gives up and leaves the op in float: DEQUANTIZE → UNPACK (float) →
QUANTIZE per used output. Every other architecture and model had it convert cleanly, which is why it
looked tied to particular shapes or to models converted earlier.

The quantizer has already calibrated the QUANTIZEs to the very scale and zero point of the int8 tensor
before the DEQUANTIZE (a pass-through op must keep them), so running the op on the int8 tensor directly
is exact: `requantize_float_islands` rewires it so and drops the DEQUANTIZE/QUANTIZE pair. An island
whose scales differ is left alone, and `check_int8_model` then names it.
"""
from __future__ import annotations

import numpy as np

from nas.tflite_model import SAME_QUANTIZATION_OPS, op_name


def _same_quantization(a, b) -> bool:
    if a is None or b is None or a.scale is None or b.scale is None:
        return False
    return (np.array_equal(np.asarray(a.scale), np.asarray(b.scale))
            and np.array_equal(np.asarray(a.zeroPoint), np.asarray(b.zeroPoint)))


def requantize_float_islands(model: bytes) -> bytes:
    """``model`` with every DEQUANTIZE → op of ``SAME_QUANTIZATION_OPS`` → QUANTIZE island made int8 (bytes unchanged
    when there is none)."""
    from tensorflow.lite.tools import flatbuffer_utils

    obj = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    changed = False
    for graph in obj.subgraphs:
        def name_of(op) -> str:
            return op_name(obj.operatorCodes[op.opcodeIndex])

        def consumers(tensor: int) -> list:
            return [op for op in graph.operators if tensor in list(op.inputs)]

        dropped: set[int] = set()  # id() of operators to remove
        for deq in graph.operators:
            if name_of(deq) != "DEQUANTIZE":
                continue
            source, floats = int(deq.inputs[0]), int(deq.outputs[0])
            users = consumers(floats)
            if len(users) != 1 or name_of(users[0]) not in SAME_QUANTIZATION_OPS or int(users[0].inputs[0]) != floats:
                continue
            middle, q_source = users[0], graph.tensors[source].quantization
            quants = {int(o): consumers(int(o)) for o in middle.outputs}
            if not all(name_of(q) == "QUANTIZE" and _same_quantization(graph.tensors[q.outputs[0]].quantization, q_source)
                       for qs in quants.values() for q in qs):
                continue
            if any(int(o) in list(graph.outputs) for o in middle.outputs):
                continue
            middle.inputs[0] = source
            for out, qs in quants.items():
                graph.tensors[out].type = graph.tensors[source].type
                graph.tensors[out].quantization = q_source
                for q in qs:  # readers of the QUANTIZE's result read the int8 output directly
                    replaced = int(q.outputs[0])
                    for op in graph.operators:
                        op.inputs = np.asarray([out if int(i) == replaced else int(i) for i in op.inputs], np.int32)
                    graph.outputs = np.asarray([out if int(i) == replaced else int(i) for i in graph.outputs], np.int32)
                    dropped.add(id(q))
            dropped.add(id(deq))
        if dropped:
            graph.operators = [op for op in graph.operators if id(op) not in dropped]
            _drop_unused_tensors(graph)
            changed = True
    if not changed:
        return model
    _drop_unused_op_codes(obj)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))


def _drop_unused_tensors(graph) -> None:
    used = sorted({int(i) for op in graph.operators for i in [*op.inputs, *op.outputs] if i >= 0}
                  | {int(i) for i in graph.inputs} | {int(i) for i in graph.outputs})
    new_index = {old: new for new, old in enumerate(used)}

    def remap(indices):
        return np.asarray([new_index[int(i)] if i >= 0 else -1 for i in indices], np.int32)

    graph.tensors = [graph.tensors[i] for i in used]
    for op in graph.operators:
        op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)
    graph.inputs, graph.outputs = remap(graph.inputs), remap(graph.outputs)


def _drop_unused_op_codes(obj) -> None:
    used = sorted({op.opcodeIndex for graph in obj.subgraphs for op in graph.operators})
    new_index = {old: new for new, old in enumerate(used)}
    obj.operatorCodes = [obj.operatorCodes[i] for i in used]
    for graph in obj.subgraphs:
        for op in graph.operators:
            op.opcodeIndex = new_index[op.opcodeIndex]
