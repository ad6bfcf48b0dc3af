# Copyright (c) mmookd authors. All rights reserved.
"""Group the frame queries of clips into instances with IDOL's tracker.

Used by the offline teacher's average mode without ground truth: which
frame query belongs to which instance slot is what the tracker says.
"""
from typing import Dict, List

import torch
from mmdet.structures import DetDataSample
from torch import Tensor, nn


class TrackerGrouping:
    """Run IDOL's tracker over clip-major frames; record each query's slot.

    Called once per chunk of frames with the base's per-frame outputs. The
    tracker is reset at the first frame of every clip; a query that the
    tracker outputs as track ``k`` gets the slot of ``k`` (slots numbered by
    the order in which the tracks appear in the clip; tracks past
    ``num_slots`` get none), every other query -1.

    Args:
        idol (:obj:`IDOL`): The base, with its tracker.
        num_frames (int): Frames per clip.
        num_slots (int): ``Nv``.
    """

    def __init__(self, idol: nn.Module, num_frames: int,
                 num_slots: int) -> None:
        self.idol = idol
        self.num_frames = num_frames
        self.num_slots = num_slots
        self.rows: List[Tensor] = []
        self.slots: Dict[int, int] = dict()

    @property
    def assignment(self) -> Tensor:
        """(B * T, Nf) long slots of the frames seen so far."""
        return torch.stack(self.rows)

    def __call__(self, outs: Dict, samples: List[DetDataSample],
                 start: int) -> None:
        tracker = self.idol.tracker
        keep = tracker.keep_video_results
        tracker.keep_video_results = False  # nothing per frame is kept
        try:
            for i, sample in enumerate(samples):
                t = (start + i) % self.num_frames
                if t == 0:
                    tracker.reset()
                    self.slots.clear()
                meta = self.idol.tracker_img_meta(sample)
                meta['frame_id'] = t
                tracker.track(
                    frame_id=t,
                    cls_logits=outs['cls_logits'][i],
                    bboxes=self.idol.bboxes_to_original(
                        outs['bboxes_xyxy'][i], meta),
                    embeds=outs['embeds'][i],
                    mask_logits=self.idol.decode_masks(outs['mask_params'][i],
                                                       outs['references'][i],
                                                       outs['mask_feats'][i]),
                    img_meta=meta)
                row = outs['queries'].new_full((outs['queries'].size(1), ),
                                               -1,
                                               dtype=torch.long)
                for query, tid in zip(tracker.last_candidates.tolist(),
                                      tracker.last_assignment.tolist()):
                    if tid < 0:
                        continue
                    if tid not in self.slots and len(
                            self.slots) < self.num_slots:
                        self.slots[tid] = len(self.slots)
                    row[query] = self.slots.get(tid, -1)
                self.rows.append(row)
        finally:
            tracker.keep_video_results = keep
