# Copyright (c) mmookd authors. All rights reserved.
"""Association metrics of VIS tracks (HOTA, IDF1, IDSW) with TrackEval.

The metric code is TrackEval's own (the ``trackeval`` package: ``HOTA``,
``Identity``, ``CLEAR``); this module only feeds it, in memory, the per-frame
data that TrackEval's ``YouTubeVIS`` dataset class would build from a GT
JSON and a results JSON, so that no file is written:

* a track (GT or predicted) is a detection in every frame where its
  segmentation is not ``None`` (an empty mask still counts, as in TrackEval);
* per video and **per category** (the track's ``category_id``; a predicted
  track's category is the one its AP uses), the frame-level similarity of a
  GT and a predicted detection is their mask IoU (``pycocotools.mask.iou``,
  GT rows, prediction columns), ids are relabelled to ``0..n-1`` and each
  metric's ``eval_sequence`` runs on that (video, category);
* nothing is removed: no score threshold (unless ``score_thr`` is given),
  no cut to 100 tracks, crowd GT counts as regular GT, and masks of one
  frame may overlap (the per-frame Hungarian matching gives a GT at most one
  prediction; an overlapping extra prediction is a false positive);
* per category, videos are combined with ``combine_sequences``; categories
  are combined with ``combine_classes_class_averaged`` (TrackEval's
  ``cls_comb_cls_av``), leaving out categories with neither a GT nor a
  predicted detection in the pooled videos (TrackEval's
  ``ignore_empty_classes=True``; its ``Evaluator`` keeps them as zeros).

Shape shorthand: ``F`` frames of a video, ``g``/``d`` GT/predicted
detections present in one frame, ``A`` = 19 HOTA localisation thresholds
(0.05:0.05:0.95).

A *track* is a dict as in :mod:`.ytvis_eval`: ``video_id``,
``category_id`` (1-based), ``segmentations`` (``F`` compressed RLE dicts or
``None``), ``score`` (predictions) and optionally ``id`` (GT: the order of
the relabelled ids).
"""
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from pycocotools import mask as mask_utils

# The reported values; HOTA, DetA, AssA and LocA are means over the A
# thresholds, as TrackEval's summaries.
TRACK_ITEMS = ('HOTA', 'DetA', 'AssA', 'LocA', 'IDF1', 'IDSW')


def _trackeval_metrics() -> OrderedDict:
    """TrackEval's HOTA, Identity and CLEAR metric objects (quiet)."""
    try:
        from trackeval.metrics import CLEAR, HOTA, Identity
    except ImportError as err:  # pragma: no cover - pinned in runtime.txt
        raise ImportError(
            'VISMetric(track_metrics=True) needs the trackeval package: '
            'pip install trackeval==1.3.0') from err
    return OrderedDict(
        HOTA=HOTA(),
        Identity=Identity(dict(THRESHOLD=0.5, PRINT_CONFIG=False)),
        CLEAR=CLEAR(dict(THRESHOLD=0.5, PRINT_CONFIG=False)))


def frame_similarities(gt_segms: Sequence[Sequence[Optional[dict]]],
                       dt_segms: Sequence[Sequence[Optional[dict]]],
                       num_frames: int,
                       video_id=None) -> List[tuple]:
    """Present detections and their mask IoUs, frame by frame.

    Args:
        gt_segms (list[list]): GT tracks, each ``F`` RLE/None.
        dt_segms (list[list]): predicted tracks, each ``F`` RLE/None.
        num_frames (int): ``F``.
        video_id (optional): named in error messages.

    Returns:
        list[tuple]: per frame ``(gt_idx (g, ), dt_idx (d, ), iou (g, d))``
        with the indices of the present tracks in list order.
    """
    out = []
    for t in range(num_frames):
        g_idx = np.array(
            [i for i, s in enumerate(gt_segms)
             if t < len(s) and s[t] is not None], dtype=np.int64)
        d_idx = np.array(
            [i for i, s in enumerate(dt_segms)
             if t < len(s) and s[t] is not None], dtype=np.int64)
        iou = np.zeros((len(g_idx), len(d_idx)))
        if len(g_idx) and len(d_idx):
            g_rles = [gt_segms[i][t] for i in g_idx]
            d_rles = [dt_segms[i][t] for i in d_idx]
            sizes = {tuple(r['size']) for r in g_rles + d_rles}
            if len(sizes) > 1:
                raise ValueError(
                    f'video {video_id}, frame {t}: predicted and GT masks '
                    f'have different sizes {sorted(sizes)}')
            iou = np.asarray(
                mask_utils.iou(g_rles, d_rles, [0] * len(d_rles)),
                dtype=np.float64).reshape(len(g_idx), len(d_idx))
        out.append((g_idx, d_idx, iou))
    return out


def _relabel(order_keys: Sequence, present: set) -> Dict[int, int]:
    """Track index -> contiguous id, ranked by ``order_keys`` (TrackEval
    relabels the ids that occur in some frame, in increasing order)."""
    ranked = sorted(present, key=lambda i: (order_keys[i], i))
    return {i: n for n, i in enumerate(ranked)}


def sequence_data(frames: List[tuple], gt_keep: np.ndarray,
                  dt_keep: np.ndarray, gt_order: Sequence,
                  seq_name: str) -> dict:
    """TrackEval's preprocessed data of one (video, category).

    Args:
        frames (list[tuple]): output of :func:`frame_similarities`.
        gt_keep (np.ndarray): ``(G, )`` bool, GT tracks of the category.
        dt_keep (np.ndarray): ``(D, )`` bool, predictions of the category.
        gt_order (Sequence): ``G`` keys ranking the GT ids (their ``id``).
        seq_name (str): the sequence name (in TrackEval's messages).

    Returns:
        dict: ``gt_ids``, ``tracker_ids`` (per frame ``(g, )``/``(d, )``
        int arrays), ``similarity_scores`` (per frame ``(g, d)``) and the
        counts ``num_timesteps``, ``num_gt_ids``, ``num_tracker_ids``,
        ``num_gt_dets``, ``num_tracker_dets``.
    """
    sel = []
    gt_present, dt_present = set(), set()
    for g_idx, d_idx, iou in frames:
        g_mask, d_mask = gt_keep[g_idx], dt_keep[d_idx]
        g_sel, d_sel = g_idx[g_mask], d_idx[d_mask]
        gt_present.update(g_sel.tolist())
        dt_present.update(d_sel.tolist())
        sel.append((g_sel, d_sel, iou[g_mask][:, d_mask]))
    gt_map = _relabel(gt_order, gt_present)
    dt_map = _relabel(range(len(dt_keep)), dt_present)
    data = dict(gt_ids=[], tracker_ids=[], similarity_scores=[])
    num_gt_dets = num_dt_dets = 0
    for g_sel, d_sel, sim in sel:
        data['gt_ids'].append(
            np.array([gt_map[i] for i in g_sel], dtype=np.int64))
        data['tracker_ids'].append(
            np.array([dt_map[i] for i in d_sel], dtype=np.int64))
        data['similarity_scores'].append(sim)
        num_gt_dets += len(g_sel)
        num_dt_dets += len(d_sel)
    data.update(
        num_timesteps=len(frames),
        num_gt_ids=len(gt_map),
        num_tracker_ids=len(dt_map),
        num_gt_dets=num_gt_dets,
        num_tracker_dets=num_dt_dets,
        seq=seq_name)
    return data


class TrackEvaluator:
    """HOTA / IDF1 / IDSW of predicted VIS tracks, TrackEval's YouTube-VIS
    conventions (see the module docstring).

    Usage::

        ev = TrackEvaluator(gts, dts, cat_ids, video_ids)
        ev.evaluate()                    # per (video, category), once
        values = ev.summarize(video_ids) # any subset of the videos

    Args:
        gts (list[dict]): GT tracks.
        dts (list[dict]): predicted tracks.
        cat_ids (Sequence[int]): the evaluated category ids.
        video_ids (Sequence): the evaluated videos; tracks of other videos
            (or categories) are left out.
        score_thr (float, optional): keep only predicted tracks with
            ``score >= score_thr``; None (default) keeps them all, as
            TrackEval does.
    """

    def __init__(self,
                 gts: List[dict],
                 dts: List[dict],
                 cat_ids: Sequence[int],
                 video_ids: Sequence,
                 score_thr: Optional[float] = None) -> None:
        self.cat_ids = sorted(set(int(c) for c in cat_ids))
        self.video_ids = list(OrderedDict.fromkeys(video_ids))
        self.score_thr = score_thr
        vids, cats = set(self.video_ids), set(self.cat_ids)
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        for g in gts:
            if g['video_id'] in vids and int(g['category_id']) in cats:
                self._gts[g['video_id']].append(g)
        for d in dts:
            if d['video_id'] not in vids or int(d['category_id']) not in cats:
                continue
            if score_thr is not None and not float(d['score']) >= score_thr:
                continue
            self._dts[d['video_id']].append(d)
        self.metrics = _trackeval_metrics()
        # video_id -> category id -> metric name -> TrackEval result dict
        self.results: Dict = OrderedDict()

    def evaluate(self) -> None:
        """Run TrackEval's ``eval_sequence`` on every (video, category)."""
        self.results = OrderedDict()
        for vid in self.video_ids:
            gts, dts = self._gts[vid], self._dts[vid]
            num_frames = max([len(t['segmentations']) for t in gts + dts] +
                             [0])
            frames = frame_similarities([g['segmentations'] for g in gts],
                                        [d['segmentations'] for d in dts],
                                        num_frames, vid)
            gt_cats = np.array([int(g['category_id']) for g in gts],
                               dtype=np.int64)
            dt_cats = np.array([int(d['category_id']) for d in dts],
                               dtype=np.int64)
            gt_order = [g.get('id') for g in gts]
            if None in gt_order or len({type(o) for o in gt_order}) > 1:
                gt_order = list(range(len(gts)))  # ids missing / mixed
            per_cat = OrderedDict()
            for cat in self.cat_ids:
                data = sequence_data(frames, gt_cats == cat, dt_cats == cat,
                                     gt_order, str(vid))
                per_cat[cat] = OrderedDict(
                    (name, metric.eval_sequence(data))
                    for name, metric in self.metrics.items())
            self.results[vid] = per_cat

    def combine(self, video_ids: Optional[Sequence] = None) -> dict:
        """TrackEval's combined results over a set of videos.

        Args:
            video_ids (Sequence, optional): videos to pool (default: all
                evaluated ones); ids that were not evaluated are skipped.

        Returns:
            dict: ``{'per_class': {cat: {metric: res}}, 'cls_av': {metric:
            res} or None}`` (None when no category has a detection).
        """
        if video_ids is None:
            vids = list(self.results)
        else:
            wanted = set(video_ids)
            vids = [v for v in self.results if v in wanted]
        per_class = OrderedDict()
        for cat in self.cat_ids:
            per_class[cat] = OrderedDict(
                (name,
                 metric.combine_sequences(
                     {str(v): self.results[v][cat][name]
                      for v in vids}) if vids else None)
                for name, metric in self.metrics.items())
        non_empty = {
            cat: res
            for cat, res in per_class.items() if res['HOTA'] is not None and
            (res['HOTA']['HOTA_TP'] + res['HOTA']['HOTA_FN'] +
             res['HOTA']['HOTA_FP'] > 0).any()
        }
        cls_av = None
        if non_empty:
            cls_av = OrderedDict(
                (name,
                 metric.combine_classes_class_averaged(
                     {str(c): r[name]
                      for c, r in non_empty.items()},
                     ignore_empty_classes=True))
                for name, metric in self.metrics.items())
        return dict(per_class=per_class, cls_av=cls_av)

    def summarize(self, video_ids: Optional[Sequence] = None) -> dict:
        """The :data:`TRACK_ITEMS` over a set of videos.

        Args:
            video_ids (Sequence, optional): as in :meth:`combine`.

        Returns:
            dict[str, float]: ``HOTA, DetA, AssA, LocA, IDF1`` in [0, 1]
            (class-averaged) and ``IDSW`` (summed); all -1 when no category
            has a GT or predicted detection in these videos.
        """
        cls_av = self.combine(video_ids)['cls_av']
        if cls_av is None:
            return OrderedDict((k, -1.0) for k in TRACK_ITEMS)
        hota = cls_av['HOTA']
        return OrderedDict(
            HOTA=float(np.mean(hota['HOTA'])),
            DetA=float(np.mean(hota['DetA'])),
            AssA=float(np.mean(hota['AssA'])),
            LocA=float(np.mean(hota['LocA'])),
            IDF1=float(cls_av['Identity']['IDF1']),
            IDSW=float(cls_av['CLEAR']['IDSW']))
