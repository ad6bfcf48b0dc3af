# Copyright (c) mmookd authors. All rights reserved.
"""tools/test.py's printed summary of the headline figures."""
from mmookd.testing import load_tool


def test_summary_rows_per_subset_and_columns_present():
    tool = load_tool('tools/test.py', 'tool_test')
    metrics = {
        'youtube_vis/segm_mAP': 0.0789,
        'youtube_vis/segm_HOTA': 0.5,
        'youtube_vis/segm_IDSW': 3.0,
        'youtube_vis/short_segm_mAP': 0.1,
        'youtube_vis/short_segm_HOTA': 0.45,
        'youtube_vis/short_segm_IDSW': 1.0,
        'youtube_vis/long_segm_mAP': -1.0,
        'youtube_vis/long_segm_mAP_occ_heavy': 0.25,
        'youtube_vis/segm_AP_disc': 0.3,
    }
    lines = tool.format_summary(metrics).splitlines()
    assert lines[0].split() == ['subset', 'AP', 'HOTA', 'IDSW', 'AP_occH']
    assert lines[1].split() == ['main', '7.9', '50.0', '3', '-']
    assert lines[2].split() == ['long', '-', '-', '-', '25.0']
    assert lines[3].split() == ['short', '10.0', '45.0', '1', '-']
    assert len(lines) == 4
    # a format_only run has no metric: nothing is printed
    assert tool.format_summary({}) == ''
