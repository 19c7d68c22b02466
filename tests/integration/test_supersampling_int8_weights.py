"""Int8 QAT weights stay symmetric per channel (zero point 0) even where a channel's weights all have one sign:
torch's fused moving-average fake quantizer makes such a channel affine (zero point +-127, half the step), which
TOSA int8 weights cannot carry; the int8 runtime then decoded that output channel wrongly (found on a 160-step
GPU run: a sigmoid head channel that trained to all-negative weights)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("executorch")

from ngsdk.asset.supersampling import LAYERS  # noqa: E402
from ngsdk.exporters.graph.int8_reference import int8_reference  # noqa: E402
from ngsdk.exporters.graph.supersampling_int8 import _attr, _nodes, int8_network  # noqa: E402
from ngsdk.exporters.graph.vgf_export import check_symmetric_weights  # noqa: E402
from ngsdk.runtime_ref.supersampling import net_int8  # noqa: E402
from ngsdk.supersampling import quant  # noqa: E402
from ngsdk.supersampling.network import NSSNet  # noqa: E402


def _one_signed_qat_net() -> tuple[object, torch.Tensor]:
    torch.manual_seed(3)
    net = NSSNet()
    with torch.no_grad():
        head = net.kpn_12_15_out_conv.conv2d
        head.weight[3] = -head.weight[3].abs()  # every weight of output channel 15 negative
        head.weight[1] = head.weight[1].abs()  # and every weight of channel 13 positive
    x = torch.rand(2, 12, 32, 32)
    prepared = quant.prepare_qat(net, x)
    quant.set_mode(prepared, True)
    with torch.no_grad():
        prepared(x)  # one training forward: observers see the weights and the activations
    return quant.convert(prepared), x


def test_one_signed_channels_keep_zero_point_zero_and_decode_exactly() -> None:
    converted, x = _one_signed_qat_net()
    for conv in _nodes(converted, "conv2d"):
        zp = _attr(converted, conv.args[1].args[2])
        assert not np.any(zp), f"{conv.name}: weight zero points {zp}"
    q = int8_network(converted)
    head = q.layers[[s.name for s in LAYERS].index("kpn_12_15_out_conv")]
    # symmetric: the largest weight of the one-signed channels reaches code +-127 or near it, not +-254 steps
    assert np.abs(head.weight[3]).max() >= 120 and head.weight[3].max() <= 0
    assert np.abs(head.weight[1]).max() >= 120 and head.weight[1].min() >= 0
    ref = int8_reference(converted)
    with torch.no_grad():
        outs = ref(x[:1])
    want = np.concatenate([np.rint(o.numpy()[0] * 254.0 - 127.0) for o in outs]).astype(np.int8)
    got = net_int8(q, x[0].numpy())
    assert np.array_equal(got, want), f"{int(np.count_nonzero(got != want))} codes differ"


def test_affine_weights_are_refused_by_name() -> None:
    converted, _ = _one_signed_qat_net()
    conv = _nodes(converted, "conv2d")[15]
    zp = _attr(converted, conv.args[1].args[2])
    zp[3] = 127  # what the fused quantizer wrote before the fix
    with pytest.raises(ValueError, match=r"conv2d_15 \(kpn_12_15_out_conv\) weights are not symmetric"):
        int8_network(converted)
    with pytest.raises(ValueError, match=r"channels \[3\] have zero points \[127\]"):
        check_symmetric_weights(converted)  # the generic VGF path refuses it too
