# Copyright (c) mmookd authors. All rights reserved.
"""benchmark_inference.py times IDOL, DeformableDETR and Mask2Former-VIS
(full-size, untrained) on the same tiny frames and prints the ratios."""
import json

import torch

from mmookd.testing import load_tool

benchmark_inference = load_tool(
    'tools/analysis_tools/benchmark_inference.py')


def test_frames_are_deterministic_and_shaped():
    a = benchmark_inference.make_frames(3, 20, 30, seed=1)
    b = benchmark_inference.make_frames(3, 20, 30, seed=1)
    assert a.shape == (3, 3, 20, 30) and a.dtype == torch.uint8
    assert torch.equal(a, b) and a.float().std() > 5
    assert benchmark_inference.resolve_config(
        'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py'
    ).endswith('deformable-detr_r50_16xb2-50e_coco.py')


def test_tiny_run_prints_ratios_as_json(capsys):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = benchmark_inference.main([
            '--size', '64', '96', '--rounds', '2', '--warmup', '0',
            '--clip-len', '2', '--json'
        ])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out.strip().splitlines()
    parsed = json.loads(out[-1])
    assert parsed['size'] == [64, 96] and parsed['clip_len'] == 2
    names = list(parsed['models'])
    assert names == ['IDOL R-50', 'DeformableDETR R-50',
                     'Mask2Former-VIS R-50']
    medians = []
    for name in names:
        model = parsed['models'][name]
        assert len(model['frame_ms']) == 2
        assert all(t > 0 for t in model['frame_ms'])
        assert abs(model['fps'] * model['median_ms'] - 1000) < 1e-6
        medians.append(model['median_ms'])
    assert parsed['ratio_idol_vs_deformable_detr'] == medians[0] / medians[1]
    assert parsed['ratio_idol_vs_mask2former_vis'] == medians[0] / medians[2]
    assert result['models'].keys() == parsed['models'].keys()
    assert any('IDOL / DeformableDETR' in line for line in out)
