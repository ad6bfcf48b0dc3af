# Copyright (c) mmookd authors. All rights reserved.
"""``VISMetric``: YouTube-VIS / OVIS video AP, the official protocol.

A drop-in for mmdet 3.3's ``YouTubeVISMetric`` (same inputs, same prefix)
that runs under numpy 2, computes the official protocol itself (see
:mod:`mmookd.evaluation.functional.ytvis_eval`), reads the GT from the
official JSON file, reports short/long subsets (YTVIS-22) and writes the
server submission zip.  See ``docs/evaluation.md``.
"""
import os
import os.path as osp
import warnings
import zipfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import mmengine
import numpy as np
from mmdet.evaluation.metrics.base_video_metric import BaseVideoMetric
from mmdet.registry import METRICS
from mmengine.logging import MMLogger

from .functional.extra_metrics import build_extra_evaluators
from .functional.ytvis_eval import (SUMMARY_ITEMS, YTVISEvaluator,
                                    classwise_ap, encode_masks, summarize,
                                    to_rle)

DEFAULT_ITEMS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@1',
                 'AR@10', 'AR@100')
SubsetSpec = Union[str, Sequence]


def _to_numpy(value) -> np.ndarray:
    """Tensor / array / list -> numpy array (CPU, detached)."""
    if value is None:
        return None
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    elif hasattr(value, 'masks') and not isinstance(value, dict):
        value = value.masks  # mmdet BitmapMasks
    return np.asarray(value)


def _majority(labels: List[int]) -> int:
    """The most frequent label (the smallest one on ties), as mmdet."""
    return int(np.bincount(np.asarray(labels, dtype=np.int64)).argmax())


def _frame_size(frame) -> tuple:
    """``(h, w)`` of a frame at its original size (``ori_shape``)."""
    shape = frame.get('ori_shape', None)
    if shape is None:
        shape = (frame.get('height', None), frame.get('width', None))
    return int(shape[0]), int(shape[1])


def _category_key(name) -> str:
    """Category name key: case and ``' '`` vs ``'_'`` do not matter (as
    ``VISDataset``)."""
    return str(name).strip().lower().replace(' ', '_')


def label_category_ids(classes: Optional[Sequence[str]],
                       categories: List[dict], source: str) -> List[int]:
    """The annotation file's category id of each 0-based label.

    Labels are indices into the class names the dataset used (its
    ``metainfo['classes']``, also a subset of a file's categories); they are
    matched to the file's ``categories`` by name, as ``VISDataset`` does, so
    permuted or non-contiguous ids (1, 5, 9, ...) are mapped correctly.

    Args:
        classes (Sequence[str], optional): the dataset's class names; None:
            label ``i`` is the ``i``-th category in id order.
        categories (list[dict]): ``{'id': int, 'name': str}`` entries.
        source (str): the file, for messages.

    Returns:
        list[int]: ``ids[label]``, one per class.

    Raises:
        ValueError: a class name that is not a category of the file.
    """
    if classes is None:
        return sorted(int(c['id']) for c in categories)
    name2id = {_category_key(c['name']): int(c['id']) for c in categories}
    missing = [c for c in classes if _category_key(c) not in name2id]
    if missing:
        raise ValueError(
            f'VISMetric: the classes {missing} of the dataset are not '
            f'categories of {source} (its categories: '
            f'{[c["name"] for c in categories]}); labels cannot be mapped to '
            'its category ids')
    return [name2id[_category_key(c)] for c in classes]


def _relabel(tracks: List[dict], label2cat: Optional[List[int]],
             what: str) -> List[dict]:
    """Tracks with ``category_id`` = label + 1 -> the file's category id."""
    if label2cat is None:
        return tracks
    out = []
    for track in tracks:
        label = int(track['category_id']) - 1
        if not 0 <= label < len(label2cat) or label2cat[label] is None:
            raise ValueError(
                f'VISMetric: video {track["video_id"]}: {what} label '
                f'{label} has no category id (the dataset has '
                f'{len(label2cat)} classes, ids {label2cat})')
        out.append(dict(track, category_id=label2cat[label]))
    return out


def _check_scores(scores: np.ndarray, video_id, where: str = '') -> None:
    """Refuse NaN / inf track scores, naming the video (and frame)."""
    finite = np.isfinite(scores)
    if not finite.all():
        raise ValueError(
            f'VISMetric: video {video_id}{where}: track score(s) '
            f'{scores[~finite][:3].tolist()} are not finite (a diverged '
            'model?); NaN scores cannot be ranked and are not valid JSON '
            'for a submission')


def check_writable_prefix(prefix: str, what: str) -> None:
    """Fail now if ``{prefix}.json`` / ``.zip`` cannot be written later.

    Nothing is created: the folder (or its nearest existing parent, where
    it will be made) must be a writable directory, and the two files must
    not be directories or read-only files.
    """
    folder = osp.dirname(osp.abspath(prefix))
    existing = folder
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(
            f'VISMetric: {what} {prefix!r}: {existing} is not a writable '
            'folder; the results could not be written after evaluation')
    for ext in ('.json', '.zip'):
        path = prefix + ext
        if osp.isdir(path) or (osp.exists(path)
                               and not os.access(path, os.W_OK)):
            raise PermissionError(
                f'VISMetric: {what} {prefix!r}: {path} is a folder or '
                'read-only')


@METRICS.register_module()
class VISMetric(BaseVideoMetric):
    """Video instance segmentation AP/AR, official YouTube-VIS protocol.

    Inputs (``process``): a batch of ``TrackDataSample`` (or their
    ``to_dict()``) whose ``video_data_samples`` are the frames of one video
    (video mode) or some frames of it (frame mode, the video is complete
    when ``ori_video_length`` frames were seen).  A frame carries metainfo
    ``video_id``, ``frame_id``, ``ori_shape`` ``(H, W)``,
    ``ori_video_length`` and, for GT from the data samples, ``instances``
    (the dataset's instance dicts with ``bbox_label``, ``mask`` (RLE),
    ``instance_id``, ``ignore_flag``), and ``pred_track_instances`` with
    ``scores (N, )``, ``labels (N, )`` (0-based), ``instances_id (N, )``
    and ``masks (N, H, W)`` bool at the original frame size.  A predicted
    track is the set of per-frame instances with one ``instances_id``:
    score = mean of its frame scores, category = majority of its labels,
    ``None`` on the frames where it is absent.  A ``TrackDataSample`` with
    the field ``pred_video_instances`` (list of ``{'score': float,
    'label': int (0-based), 'segmentations': [RLE or None per frame]}``)
    gives its video's predicted tracks directly.  Masks are encoded to RLE
    in ``process``; nothing dense is kept.

    Outputs (``evaluate``): ``{prefix}/segm_{item}`` for the items (see
    ``metric_items``), ``{prefix}/segm_AP_{class}`` with ``classwise``, and
    with ``subsets`` the same keys as ``{prefix}/{subset}_segm_...``; with
    ``subset_mean`` the main keys are the mean of the subsets' values (the
    YTVIS-22 AP = (AP_S + AP_L) / 2) and the pooled values are
    ``{prefix}/all_segm_...``.  With ``track_metrics`` also
    ``segm_HOTA, segm_DetA, segm_AssA, segm_LocA, segm_IDF1, segm_IDSW``
    (TrackEval, :mod:`.functional.track_eval`) and with
    ``occlusion_levels`` ``segm_mAP_occ_light/medium/heavy``
    (:mod:`.functional.occlusion`), with the same subset prefixes.
    Values lie in [0, 1] (IDSW is a count); -1 means undefined (no GT in
    that category / area range / subset).

    Args:
        metric (str | list[str]): only ``'youtube_vis_ap'`` (as mmdet).
        metric_items (Sequence[str], optional): summary items among
            ``mAP, mAP_50, mAP_75, mAP_s, mAP_m, mAP_l, AR@1, AR@10,
            AR@100, AR_s@100, AR_m@100, AR_l@100``.  Defaults to the first
            nine.
        ann_file (str, optional): official YTVIS/OVIS JSON with the GT of
            the evaluated videos (matched by ``video_id``; videos without
            predictions are not evaluated).  If None, the GT is collected
            from the frames' ``instances``. Predicted labels become the
            file's category ids by class *name* (``dataset_meta``'s
            ``classes``), so ids need not be 1..K in class order; the
            submission file gets the same ids.
        classwise (bool): also report per-class AP. Defaults to True.
        subsets (dict, optional): ``name -> video ids``; a value is a list
            of ids, a text file (one id a line) or a YTVIS JSON (its
            ``videos``).  E.g. ``dict(short='.../val_short.json',
            long='.../val_long.json')``.
        subset_mean (bool, optional): main keys = mean over the subsets.
            Defaults to True when ``subsets`` are given.
        round_digits (int, optional): round the values to this many
            decimals (3, as mmdet); None keeps full precision.
        outfile_prefix (str, optional): write ``{outfile_prefix}.json`` and
            ``{outfile_prefix}.zip`` (``results.json`` at its root: the
            evaluation servers' submission format).
        format_only (bool): only write the submission (needs
            ``outfile_prefix``) and return ``{}``.
        collect_device (str): ``'cpu'`` (as mmdet's video metrics).
        prefix (str, optional): key prefix; defaults to ``'youtube_vis'``.
        backend_args (dict, optional): file backend of ``ann_file`` and the
            subset files.
        track_metrics (bool): also report TrackEval's HOTA, DetA, AssA,
            LocA, IDF1 and IDSW (``segm_HOTA``, ...) on the same predicted
            tracks. Defaults to False.
        track_score_thr (float, optional): with ``track_metrics``, only
            predicted tracks scoring at least this enter them; None (the
            default) keeps all, as TrackEval.
        occlusion_levels (bool): also report AP on light / medium / heavy
            occlusion (``segm_mAP_occ_light``, ...), OVIS's bands. Defaults
            to False.
    """

    default_prefix: Optional[str] = 'youtube_vis'

    def __init__(self,
                 metric: Union[str, List[str]] = 'youtube_vis_ap',
                 metric_items: Optional[Sequence[str]] = None,
                 ann_file: Optional[str] = None,
                 classwise: bool = True,
                 subsets: Optional[Dict[str, SubsetSpec]] = None,
                 subset_mean: Optional[bool] = None,
                 round_digits: Optional[int] = 3,
                 outfile_prefix: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 track_metrics: bool = False,
                 track_score_thr: Optional[float] = None,
                 occlusion_levels: bool = False) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = metric if isinstance(metric, (list, tuple)) else [metric]
        for m in metrics:
            if m != 'youtube_vis_ap':
                raise KeyError(
                    f"VISMetric: metric should be 'youtube_vis_ap', got {m}")
        self.metric_items = list(metric_items or DEFAULT_ITEMS)
        for item in self.metric_items:
            if item not in SUMMARY_ITEMS:
                raise KeyError(f'VISMetric: metric_items entry "{item}" is '
                               f'not one of {list(SUMMARY_ITEMS)}')
        if format_only and not outfile_prefix:
            raise ValueError('VISMetric: format_only=True needs '
                             'outfile_prefix (where to write the zip)')
        if outfile_prefix:
            check_writable_prefix(outfile_prefix, 'outfile_prefix')
        self.backend_args = backend_args
        if ann_file is not None and not mmengine.exists(
                ann_file, backend_args=backend_args):
            raise FileNotFoundError(
                f'VISMetric: ann_file not found: {ann_file}')
        self.ann_file = ann_file
        self.classwise = classwise
        self.subsets = self._check_subsets(subsets)
        if subset_mean is None:
            subset_mean = bool(self.subsets)
        self.subset_mean = subset_mean and bool(self.subsets)
        if self.subset_mean and 'all' in self.subsets:
            raise ValueError("VISMetric: subset name 'all' is reserved for "
                             'the pooled values when subset_mean=True')
        self.round_digits = round_digits
        self.outfile_prefix = outfile_prefix
        self.format_only = format_only
        self.extra_cfg = dict(
            track_metrics=track_metrics,
            track_score_thr=track_score_thr,
            occlusion_levels=occlusion_levels)
        self._extras: List = []
        self._buffers: Dict = OrderedDict()  # video_id -> partial video

    # ------------------------------------------------------------------
    # configuration helpers
    # ------------------------------------------------------------------
    def _check_subsets(self, subsets) -> Dict[str, SubsetSpec]:
        """Validate the ``subsets`` config (names and value types)."""
        if not subsets:
            return OrderedDict()
        if not isinstance(subsets, dict):
            raise TypeError('VISMetric: subsets must be a dict name -> ids, '
                            f'got {type(subsets)}')
        for name, spec in subsets.items():
            if not isinstance(name, str) or not name or '/' in name:
                raise ValueError(f'VISMetric: bad subset name {name!r}')
            if isinstance(spec, str):
                if not mmengine.exists(spec, backend_args=self.backend_args):
                    raise FileNotFoundError(
                        f'VISMetric: file of subset "{name}" not found: '
                        f'{spec}')
            elif not isinstance(spec, (list, tuple, set)):
                raise TypeError(f'VISMetric: subset "{name}" must be a list '
                                f'of video ids or a file path, got '
                                f'{type(spec)}')
        return OrderedDict(subsets)

    def _resolve_subset(self, name: str, spec: SubsetSpec) -> set:
        """Video ids of a subset (list, text file or YTVIS JSON)."""
        if not isinstance(spec, str):
            return set(spec)
        if spec.endswith('.json'):
            data = mmengine.load(spec, backend_args=self.backend_args)
            if not isinstance(data, dict) or 'videos' not in data:
                raise ValueError(f'VISMetric: subset "{name}": {spec} is not '
                                 'a YTVIS JSON (no "videos")')
            return {v['id'] for v in data['videos']}
        text = mmengine.get_text(spec, backend_args=self.backend_args)
        ids = set()
        for line in text.splitlines():
            line = line.strip()
            if line:
                ids.add(int(line) if line.lstrip('-').isdigit() else line)
        return ids

    # ------------------------------------------------------------------
    # process: frames -> per-video RLE records
    # ------------------------------------------------------------------
    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        """Encode the predictions (and GT) of a batch of videos/frames.

        Args:
            data_batch (dict): unused.
            data_samples (Sequence[TrackDataSample | dict]): see the class
                docstring.
        """
        for sample in data_samples:
            frames = sample.get('video_data_samples', None)
            if not frames:
                raise ValueError('VISMetric: a data sample has no '
                                 '"video_data_samples"')
            first = frames[0]
            video_len = first.get('ori_video_length', None) or first.get(
                'video_length', None) or len(frames)
            video_id = first.get('video_id', None)
            buf = self._buffers.get(video_id)
            if buf is None:
                buf = self._new_buffer(video_id, int(video_len))
                self._buffers[video_id] = buf
            for frame in frames:
                self._add_frame(buf, frame)
            video_preds = sample.get('pred_video_instances', None)
            if video_preds is not None:
                buf['video_preds'] = list(video_preds)
            if len(buf['seen']) >= buf['length']:
                self.results.append(
                    self._finalize(self._buffers.pop(video_id)))

    @staticmethod
    def _new_buffer(video_id, length: int) -> dict:
        return dict(
            video_id=video_id,
            length=length,
            seen=set(),
            size=None,
            tracks=OrderedDict(),
            gts=OrderedDict(),
            has_gt=False,
            video_preds=None)

    def _add_frame(self, buf: dict, frame) -> None:
        """Add one frame's predictions (as RLE) and GT to a video buffer.

        Frames without a ``frame_id`` are taken to come in order.
        """
        video_id = buf['video_id']
        frame_id = frame.get('frame_id', None)
        frame_id = len(buf['seen']) if frame_id is None else int(frame_id)
        if not 0 <= frame_id < buf['length']:
            raise ValueError(f'VISMetric: video {video_id}: frame_id '
                             f'{frame_id} outside 0..{buf["length"] - 1}')
        buf['seen'].add(frame_id)
        height, width = _frame_size(frame)
        buf['size'] = (height, width)
        pred = frame.get('pred_track_instances', None)
        if pred is not None and len(pred.get('scores', [])) > 0:
            self._add_frame_preds(buf, pred, frame_id, height, width)
        instances = frame.get('instances', None)
        if instances is not None:
            buf['has_gt'] = True
            for ann in instances:
                iid = int(ann['instance_id'])
                gt = buf['gts'].setdefault(
                    iid,
                    dict(
                        category_id=int(ann['bbox_label']) + 1,
                        iscrowd=int(bool(ann.get('ignore_flag', 0))),
                        segms={}))
                if ann.get('mask', None) is not None:
                    gt['segms'][frame_id] = to_rle(ann['mask'], height, width)

    @staticmethod
    def _add_frame_preds(buf: dict, pred, frame_id: int, height: int,
                         width: int) -> None:
        """Append one frame's ``pred_track_instances`` to their tracks."""
        video_id = buf['video_id']
        for key in ('scores', 'labels', 'instances_id', 'masks'):
            if pred.get(key, None) is None:
                raise KeyError(f'VISMetric: video {video_id}, frame '
                               f'{frame_id}: pred_track_instances has no '
                               f'"{key}"')
        scores = _to_numpy(pred.get('scores')).reshape(-1)
        _check_scores(scores, video_id, f', frame {frame_id}')
        labels = _to_numpy(pred.get('labels')).reshape(-1)
        ids = _to_numpy(pred.get('instances_id')).reshape(-1)
        masks = pred.get('masks')
        if isinstance(masks, (list, tuple)):
            rles = [to_rle(m, height, width) for m in masks]
        else:
            masks = _to_numpy(masks)
            if masks.shape[1:] != (height, width):
                raise ValueError(
                    f'VISMetric: video {video_id}, frame {frame_id}: '
                    f'predicted masks of size {masks.shape[1:]} but '
                    f'ori_shape {(height, width)}; masks must be at the '
                    'original frame size')
            rles = encode_masks(masks)
        if not len(scores) == len(labels) == len(ids) == len(rles):
            raise ValueError(f'VISMetric: video {video_id}, frame '
                             f'{frame_id}: scores/labels/instances_id/masks '
                             'have different lengths')
        for score, label, iid, rle in zip(scores, labels, ids, rles):
            track = buf['tracks'].setdefault(
                int(iid), dict(scores=[], labels=[], segms={}))
            track['scores'].append(float(score))
            track['labels'].append(int(label))
            track['segms'][frame_id] = rle

    def _finalize(self, buf: dict) -> dict:
        """Turn a video buffer into its compact record.

        Returns:
            dict: ``video_id``, ``length`` (F), ``preds`` (list of predicted
            tracks, official result format) and ``gts`` (list of GT tracks,
            or None when the frames carried no ``instances``).
        """
        video_id, length = buf['video_id'], buf['length']
        if buf['video_preds'] is not None:
            preds = [
                self._video_level_pred(video_id, length, i, p, buf['size'])
                for i, p in enumerate(buf['video_preds'])
            ]
        else:
            preds = []
            for track in buf['tracks'].values():
                preds.append(
                    dict(
                        video_id=video_id,
                        score=float(np.mean(track['scores'])),
                        category_id=_majority(track['labels']) + 1,
                        segmentations=[
                            track['segms'].get(t) for t in range(length)
                        ]))
        gts = None
        if buf['has_gt']:
            gts = [
                dict(
                    id=iid,
                    video_id=video_id,
                    category_id=g['category_id'],
                    iscrowd=g['iscrowd'],
                    segmentations=[g['segms'].get(t) for t in range(length)])
                for iid, g in buf['gts'].items()
            ]
        return dict(video_id=video_id, length=length, preds=preds, gts=gts)

    @staticmethod
    def _video_level_pred(video_id, length: int, index: int, pred: dict,
                          size) -> dict:
        """One ``pred_video_instances`` entry -> official result dict."""
        segms = list(pred['segmentations'])
        if len(segms) != length:
            raise ValueError(
                f'VISMetric: video {video_id}: pred_video_instances[{index}]'
                f' has {len(segms)} segmentations, the video has {length} '
                'frames')
        height, width = size if size is not None else (None, None)
        _check_scores(
            np.array([float(pred['score'])]), video_id,
            f' (pred_video_instances[{index}])')
        return dict(
            video_id=video_id,
            score=float(pred['score']),
            category_id=int(pred['label']) + 1,
            segmentations=[to_rle(s, height, width) for s in segms])

    def evaluate(self, size: int = 1) -> dict:
        """Finish incomplete videos (frame mode), then evaluate.

        Args:
            size (int): unused (kept for the mmengine interface).

        Returns:
            dict: metric name -> value (see the class docstring).
        """
        if self._buffers:
            warnings.warn(
                f'VISMetric: {len(self._buffers)} video(s) got fewer frames '
                f'than their length (e.g. video '
                f'{next(iter(self._buffers))}); they are evaluated with the '
                'missing frames empty')
            for video_id in list(self._buffers):
                self.results.append(
                    self._finalize(self._buffers.pop(video_id)))
        return super().evaluate(size)

    # ------------------------------------------------------------------
    # compute_metrics
    # ------------------------------------------------------------------
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute the metrics from the per-video records.

        Args:
            results (list[dict]): records made by ``process``.

        Returns:
            dict[str, float]: metric values, not yet prefixed.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        records = OrderedDict()
        for rec in results:
            if rec['video_id'] in records:
                warnings.warn(f'VISMetric: video {rec["video_id"]} was '
                              'processed twice; the first one is kept')
                continue
            records[rec['video_id']] = rec
        ann = self._load_ann_file() if self.ann_file is not None else None
        label2cat, categories = self._category_map(ann)
        preds = _relabel([p for rec in records.values() for p in rec['preds']],
                         label2cat, 'predicted')
        if self.outfile_prefix:
            self.dump_submission(preds, self.outfile_prefix)
        if self.format_only:
            return dict()
        if ann is not None:
            gts = self._load_gts_from_file(records, ann)
        else:
            gts = _relabel(self._load_gts(records), label2cat, 'GT')
        if not categories:  # neither classes nor a file: ids seen in the GT
            num = max([g['category_id'] for g in gts] + [1])
            categories = [(i, str(i)) for i in range(1, num + 1)]
        cat_ids = [c for c, _ in categories]
        cat_names = [n for _, n in categories]
        video_ids = list(records)
        evaluator = YTVISEvaluator(gts, preds, cat_ids, video_ids)
        evaluator.evaluate(progress=len(video_ids) >= 50)
        self._extras = build_extra_evaluators(gts, preds, cat_ids, video_ids,
                                              **self.extra_cfg)

        pooled = self._summaries(evaluator, None, cat_names)
        per_subset = OrderedDict()
        for name, spec in self.subsets.items():
            ids = self._resolve_subset(name, spec)
            if not ids & set(video_ids):
                warnings.warn(f'VISMetric: none of the evaluated videos is '
                              f'in subset "{name}"; its values are -1')
            per_subset[name] = self._summaries(evaluator, ids, cat_names)

        out = OrderedDict()
        if self.subset_mean:
            main = OrderedDict()
            for key in pooled:
                vals = np.array([s[key] for s in per_subset.values()])
                defined = vals[vals > -1]
                main[key] = float(defined.mean()) if defined.size else -1.0
        else:
            main = pooled
        out.update(main)
        for name, values in per_subset.items():
            out.update((f'{name}_{k}', v) for k, v in values.items())
        if self.subset_mean:
            out.update((f'all_{k}', v) for k, v in pooled.items())
        self._log_table(logger, pooled, per_subset, main)
        if self.round_digits is not None:
            out = OrderedDict((k, float(f'{v:.{self.round_digits}f}'))
                              for k, v in out.items())
        return out

    def _summaries(self, evaluator: YTVISEvaluator, video_ids,
                   cat_names: List[str]) -> Dict[str, float]:
        """``segm_*`` values pooled over ``video_ids`` (None: all)."""
        acc = evaluator.accumulate(video_ids)
        stats = summarize(acc['precision'], acc['recall'])
        out = OrderedDict(
            (f'segm_{item}', stats[item]) for item in self.metric_items)
        if self.classwise:
            aps = classwise_ap(acc['precision'])
            for name, ap in zip(cat_names, aps):
                out[f'segm_AP_{name}'] = float(ap)
        for extra in self._extras:
            out.update(extra.summary(video_ids))
        return out

    def _category_map(self, ann: Optional[dict]) -> tuple:
        """Labels -> category ids, and the evaluated ``(id, name)`` pairs.

        With ``ann_file`` the labels (indices into the dataset's
        ``classes``) are matched to its categories by name; without it the
        ``category_ids`` that ``VISDataset`` puts in the metainfo (the ids
        of the dataset's annotation file) are used, else ``label + 1``.

        Returns:
            tuple: ``label2cat`` (list[int] | None for ``label + 1``) and the
            evaluated categories, a list of ``(id, name)`` sorted by id
            (empty when neither classes nor a file say).
        """
        meta = self.dataset_meta or {}
        classes = meta.get('classes', None)
        if ann is not None:
            label2cat = label_category_ids(classes, ann['categories'],
                                           f'ann_file {self.ann_file}')
            if classes is None:
                cats = sorted(ann['categories'], key=lambda c: c['id'])
                classes = [c['name'] for c in cats]
        else:
            label2cat = meta.get('category_ids', None)
            if label2cat is not None and classes is not None and \
                    len(label2cat) != len(classes):
                raise ValueError(
                    f'VISMetric: dataset_meta has {len(classes)} classes '
                    f'but {len(label2cat)} category_ids')
        if classes is None:
            return label2cat, []
        ids = label2cat if label2cat is not None else list(
            range(1, len(classes) + 1))
        pairs = sorted((int(i), str(name).replace(' ', '_'))
                       for i, name in zip(ids, classes) if i is not None)
        return label2cat, pairs

    def _load_gts(self, records: Dict) -> List[dict]:
        """GT tracks (``category_id`` = label + 1) from the frames."""
        if not any(rec['gts'] is not None for rec in records.values()):
            raise ValueError(
                'VISMetric: no ground truth: the frames carry no '
                '"instances" (test pipelines with LoadTrackAnnotations add '
                'them); set ann_file=<YTVIS JSON> or format_only=True')
        gts = []
        for rec in records.values():
            gts.extend(rec['gts'] or [])
        if not gts:
            msg = ('VISMetric: the evaluated videos have no ground-truth '
                   'instance (a test split without annotations?): every '
                   'value is -1; use format_only=True for a server split')
            warnings.warn(msg)
            MMLogger.get_current_instance().warning(msg)
        return gts

    def _load_ann_file(self) -> dict:
        """``ann_file``, checked to be a YTVIS JSON."""
        data = mmengine.load(self.ann_file, backend_args=self.backend_args)
        keys = ('videos', 'categories') if self.format_only else (
            'videos', 'annotations', 'categories')
        if not isinstance(data, dict) or not all(k in data for k in keys):
            raise ValueError(f'VISMetric: ann_file {self.ann_file} is not a '
                             f'YTVIS JSON (needs {", ".join(keys)})')
        return data

    def _load_gts_from_file(self, records: Dict, data: dict) -> List[dict]:
        """The GT of the evaluated videos from ``ann_file``'s content."""
        videos = {v['id']: v for v in data['videos']}
        missing = [v for v in records if v not in videos]
        if missing:
            raise ValueError(
                f'VISMetric: video {missing[0]} (and {len(missing) - 1} '
                f'more) of the predictions is not in ann_file '
                f'{self.ann_file}')
        gts = []
        for ann in data['annotations']:
            rec = records.get(ann['video_id'])
            if rec is None:
                continue
            video = videos[ann['video_id']]
            segms = [
                to_rle(s, video.get('height'), video.get('width'))
                for s in ann['segmentations']
            ]
            if len(segms) != rec['length']:
                warnings.warn(
                    f'VISMetric: video {ann["video_id"]}: annotation '
                    f'{ann.get("id")} has {len(segms)} frames, the '
                    f'predictions {rec["length"]}')
            gts.append(
                dict(
                    id=ann.get('id'),
                    video_id=ann['video_id'],
                    category_id=int(ann['category_id']),
                    iscrowd=int(ann.get('iscrowd', 0) or 0),
                    segmentations=segms,
                    areas=ann.get('areas'),
                    occlusion=ann.get('occlusion')))
        return gts

    @staticmethod
    def dump_submission(preds: List[dict], outfile_prefix: str) -> tuple:
        """Write the server submission: a JSON file and its zip.

        Args:
            preds (list[dict]): predicted tracks ``{video_id, score,
                category_id (1-based), segmentations}``.
            outfile_prefix (str): writes ``{outfile_prefix}.json`` and
                ``{outfile_prefix}.zip`` holding it as ``results.json``.

        Returns:
            tuple[str, str]: the JSON and zip paths.
        """
        out_dir = osp.dirname(osp.abspath(outfile_prefix))
        os.makedirs(out_dir, exist_ok=True)
        json_path, zip_path = f'{outfile_prefix}.json', f'{outfile_prefix}.zip'
        for p in preds:
            _check_scores(np.array([float(p['score'])]), p['video_id'])
        submission = [
            dict(
                video_id=p['video_id'],
                score=float(p['score']),
                category_id=int(p['category_id']),
                segmentations=p['segmentations']) for p in preds
        ]
        mmengine.dump(submission, json_path)
        with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as zf:
            zf.write(json_path, 'results.json')
        MMLogger.get_current_instance().info(
            f'VISMetric: wrote {len(submission)} predicted tracks to '
            f'{json_path}; submit {zip_path} to the evaluation server')
        return json_path, zip_path

    def _log_table(self, logger: MMLogger, pooled: dict, per_subset: dict,
                   main: dict) -> None:
        """Log the summary (and per-class AP) as plain-text tables."""
        rows = [('all', pooled)] + list(per_subset.items())
        if self.subset_mean:
            rows.append(('mean', main))
        lines = []
        groups = [[f'segm_{i}' for i in self.metric_items]]
        groups += [list(extra.summary_keys) for extra in self._extras]
        for items in groups:
            widths = [max(8, len(i) - 5) for i in items]
            lines.append('subset    ' + ' '.join(
                f'{i[5:]:>{w}}' for i, w in zip(items, widths)))
            for name, vals in rows:
                lines.append(f'{name:<9} ' + ' '.join(
                    f'{vals[i]:>{w}.3f}' for i, w in zip(items, widths)))
        if self.classwise:
            cls_keys = [k for k in pooled if k.startswith('segm_AP_')]
            lines.append('class AP: ' + ', '.join(f'{k[8:]}={pooled[k]:.3f}'
                                                  for k in cls_keys))
        logger.info('VISMetric results\n' + '\n'.join(lines))


__all__ = ['VISMetric']
