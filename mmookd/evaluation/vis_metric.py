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
    ``{prefix}/all_segm_...``.  Values lie in [0, 1]; -1 means undefined
    (no GT in that category / area range / subset).

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
                 backend_args: Optional[dict] = None) -> None:
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
        preds = [p for rec in records.values() for p in rec['preds']]
        if not self.format_only:
            gts, cat_ids, cat_names = self._load_gts(records)
        label2cat = self._label_to_category_id()
        if label2cat is not None:
            preds = [
                dict(p, category_id=label2cat[p['category_id'] - 1])
                for p in preds
            ]
        if self.outfile_prefix:
            self.dump_submission(preds, self.outfile_prefix)
        if self.format_only:
            return dict()
        video_ids = list(records)
        evaluator = YTVISEvaluator(gts, preds, cat_ids, video_ids)
        evaluator.evaluate(progress=len(video_ids) >= 50)

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
        return out

    def _label_to_category_id(self) -> Optional[List[int]]:
        """Category id of ``ann_file`` for every 0-based label, by name.

        Returns:
            list[int] | None: ``ids[label]``; None without ``ann_file`` (the
            GT from the frames uses ``label + 1`` too). Without
            ``dataset_meta`` classes the labels follow the categories in id
            order.

        Raises:
            ValueError: A class of ``dataset_meta`` is not a category of
                ``ann_file``.
        """
        if self.ann_file is None:
            return None
        data = mmengine.load(self.ann_file, backend_args=self.backend_args)
        cats = sorted(data.get('categories', []), key=lambda c: c['id'])
        classes = (self.dataset_meta or {}).get('classes', None)
        if classes is None:
            return [int(c['id']) for c in cats]

        def key(name):
            return str(name).strip().lower().replace(' ', '_')

        name2id = {key(c['name']): int(c['id']) for c in cats}
        missing = [c for c in classes if key(c) not in name2id]
        if missing:
            raise ValueError(
                f'VISMetric: classes {missing} of the dataset are not '
                f'categories of ann_file {self.ann_file} '
                f'({[c["name"] for c in cats]})')
        return [name2id[key(c)] for c in classes]

    def _load_gts(self, records: Dict) -> tuple:
        """GT tracks, category ids and names for the evaluated videos."""
        if self.ann_file is not None:
            return self._load_gts_from_file(records)
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
        classes = (self.dataset_meta or {}).get('classes', None)
        if classes is None:
            num = max([g['category_id'] for g in gts] + [1])
            classes = [str(i) for i in range(1, num + 1)]
        cat_ids = list(range(1, len(classes) + 1))
        return gts, cat_ids, [str(c).replace(' ', '_') for c in classes]

    def _load_gts_from_file(self, records: Dict) -> tuple:
        """Read the GT of the evaluated videos from ``ann_file``."""
        data = mmengine.load(self.ann_file, backend_args=self.backend_args)
        if not isinstance(data, dict) or not all(
                k in data for k in ('videos', 'annotations', 'categories')):
            raise ValueError(f'VISMetric: ann_file {self.ann_file} is not a '
                             'YTVIS JSON (needs videos, annotations, '
                             'categories)')
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
                    areas=ann.get('areas')))
        cats = sorted(data['categories'], key=lambda c: c['id'])
        names = [str(c['name']).replace(' ', '_') for c in cats]
        classes = (self.dataset_meta or {}).get('classes', None)
        if classes is not None and len(classes) != len(cats):
            warnings.warn(f'VISMetric: dataset_meta has {len(classes)} '
                          f'classes, ann_file {self.ann_file} '
                          f'{len(cats)} categories')
        return gts, [int(c['id']) for c in cats], names

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
        items = [f'segm_{i}' for i in self.metric_items]
        rows = [('all', pooled)] + list(per_subset.items())
        if self.subset_mean:
            rows.append(('mean', main))
        lines = ['subset    ' + ' '.join(f'{i[5:]:>8}' for i in items)]
        for name, vals in rows:
            lines.append(f'{name:<9} ' + ' '.join(f'{vals[i]:>8.3f}'
                                                  for i in items))
        if self.classwise:
            cls_keys = [k for k in pooled if k.startswith('segm_AP_')]
            lines.append('class AP: ' + ', '.join(f'{k[8:]}={pooled[k]:.3f}'
                                                  for k in cls_keys))
        logger.info('VISMetric results\n' + '\n'.join(lines))


__all__ = ['VISMetric']
