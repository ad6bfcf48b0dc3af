# Copyright (c) mmookd authors. All rights reserved.
"""Clip-consistent copy-paste for video training: MinorPaste and ClipPaste.

Both transforms paste instance tracks of a *source clip* onto a *target
clip*, frame by frame, cut out by the GT masks, and update the target's
annotations. They run on the per-frame lists that mmdet's video pipelines
produce (``UniformRefFrameSample`` + ``TransformBroadcaster``), inside
a mixing dataset wrapper: :class:`mmookd.datasets.ClipMixDataset` (light,
no deep copies, accepted by mmdet's ``TrackImgSampler``) or mmdet's
``MultiImageMixDataset``. The wrapper calls :meth:`get_indexes` with the
wrapped video dataset and passes the loaded source clip as
``results['mix_results'][0]``. Since that source clip went through the
wrapped dataset's pipeline, it was sampled by the same frame sampler as the
target. The target clip is updated in place; the source clip is only
read.

Shapes: a clip has ``T`` frames of ``H x W``; frame ``t`` of the target
has ``N_t`` instances; the source clip has ``T_s`` frames of
``H_s x W_s``. Per-frame keys read and written (lists of length ``T``)::

    img               (H, W, 3) array
    gt_masks          BitmapMasks (N_t, H, W)
    gt_bboxes         (N_t, 4) float32 array or HorizontalBoxes (x1y1x2y2)
    gt_bboxes_labels  (N_t,) int64
    gt_instances_ids  (N_t,) int32
    gt_ignore_flags   (N_t,) bool
    video_id          int (read only)

Added key: ``paste_sources``, a list of ``T`` dicts (the same content in
every frame) mapping each pasted instance's new id to its
``(source video_id, source instance_id)`` (a second paste transform in the
pipeline adds its own entries). Add ``meta_keys=
('paste_sources', )`` to ``PackTrackInputs`` to find it in every frame's
metainfo. The raw ``instances`` key is left as the target's original
annotation.

The mechanics (shared by both transforms, see :class:`BaseClipPaste`):

1. Frame mapping: target frame ``t`` takes source frame
   ``round(t (T_s - 1) / (T - 1))`` (identity when ``T_s == T``;
   first and last frames are paired; ``0`` when ``T == 1``).
2. Geometry: one scale ``s`` per clip (``scale_range``, default 1) and one
   offset ``(dx, dy)`` per clip. The offset lies in the range that keeps the
   clip-level box of the pasted instances inside the target frame; with
   ``random_offset=False`` it is the point of that range nearest to
   ``(0, 0)``, i.e. the instances stay where they were when the frames have
   the same size. Pixels (bilinear) and masks (nearest) are resized
   together; pixels falling outside the target are cropped away.
3. Compositing: pasted instances are drawn in order, later ones on top;
   pasted pixels replace the target pixels under the pasted masks, the
   occluded parts are removed from every existing mask (and from earlier
   pasted ones), so masks of pasted and existing instances never overlap.
4. Annotations: boxes of changed or pasted instances are the tight boxes of
   their new masks (``x2 = max x + 1``, as mmdet's ``BitmapMasks``), an
   instance that becomes fully hidden in a frame is removed from that
   frame's lists; a pasted instance appears in the frames where it has
   pixels, with a fresh id, the same in every frame. Fresh ids are
   ``base + 1, base + 2, ...`` with ``base`` the largest instance id of the
   dataset (when the source was chosen by :meth:`get_indexes`), of the
   target clip and of the source clip.
5. A source clip from the target's own video is not pasted.

Determinism: every random draw uses numpy's global RNG, as mmdet's
transforms do; mmengine's ``set_random_seed`` (``randomness=dict(seed=...)``)
seeds it and its dataloader ``worker_init_fn`` seeds each worker, so the
same seed gives the same output.
"""
import weakref
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import BaseBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.logging import print_log

from ..class_stats import ClassStats, compute_class_stats, video_tracks

_INSTANCE_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_instances_ids',
                  'gt_ignore_flags')


class _ClipIndex:
    """What a paste transform knows about one dataset (built once).

    Attributes:
        stats (ClassStats): Track statistics of the dataset.
        tracks (list[dict]): Per video index, ``instance_id -> label``.
        video_ids (list): Per video index, the video id.
        sources (np.ndarray): Video indexes eligible as source clips.
        max_instance_id (int): Largest instance id in the dataset.
    """

    def __init__(self, stats: ClassStats, tracks: List[Dict[int, int]],
                 video_ids: list, sources: np.ndarray,
                 max_instance_id: int) -> None:
        self.stats = stats
        self.tracks = tracks
        self.video_ids = video_ids
        self.sources = sources
        self.max_instance_id = max_instance_id


def frame_mapping(num_target: int, num_source: int) -> List[int]:
    """Source frame index for each target frame (clip-consistent).

    Args:
        num_target (int): ``T``, frames of the target clip.
        num_source (int): ``T_s``, frames of the source clip.

    Returns:
        list[int]: ``round(t (T_s - 1) / (T - 1))`` for ``t < T``.
    """
    if num_target == 1:
        return [0]
    return [
        int(np.floor(t * (num_source - 1) / (num_target - 1) + 0.5))
        for t in range(num_target)
    ]


def tight_boxes(masks: Union[np.ndarray, Sequence[np.ndarray]]) -> np.ndarray:
    """Tight boxes of binary masks.

    Args:
        masks (np.ndarray | Sequence[np.ndarray]): ``(N, H, W)`` masks, or
            ``N`` masks of ``(H, W)``.

    Returns:
        np.ndarray: ``(N, 4)`` float32 ``x1, y1, x2, y2`` with ``x2 = max x
        + 1`` (mmdet's convention); zeros for an empty mask.
    """
    boxes = np.zeros((len(masks), 4), dtype=np.float32)
    for i, mask in enumerate(masks):
        cols = np.flatnonzero(mask.max(axis=0))  # max: faster than any
        if len(cols) == 0:
            continue
        x0, x1 = cols[0], cols[-1] + 1
        rows = np.flatnonzero(mask[:, x0:x1].max(axis=1))
        boxes[i] = (x0, rows[0], x1, rows[-1] + 1)
    return boxes


def _boxes_to_numpy(boxes) -> np.ndarray:
    """``(N, 4)`` float32 array from an array or a :obj:`BaseBoxes`."""
    if isinstance(boxes, BaseBoxes):
        return boxes.numpy().astype(np.float32).reshape(-1, 4)
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)


def _boxes_like(array: np.ndarray, like):
    """``array`` as the same box type as ``like``."""
    if isinstance(like, BaseBoxes):
        return type(like)(array)
    return array


class BaseClipPaste(BaseTransform):
    """Paste instance tracks of a source clip onto a target clip.

    Subclasses choose the source clips (:meth:`_is_source`) and the tracks
    to paste (:meth:`_select`). See the module docstring for the mechanics
    and the keys.

    Args:
        prob (float): Probability of pasting onto a target clip at all. When
            a clip is not pasted onto (or nothing is selected from the drawn
            source), :meth:`get_indexes` returns no index and no source clip
            is loaded. Defaults to 1.0.
        scale_range (tuple[float, float], optional): Range of the
            clip-consistent scale jitter of the source clip. Defaults to
            None (no jitter).
        random_offset (bool): Draw the clip-consistent paste offset at
            random in its valid range instead of keeping the instances in
            place. Defaults to False.
        reuse_source (int): Number of consecutive target clips (in one
            dataloader worker) that share one drawn source video and its
            loaded clip (frames, resize and flip as sampled at its loading;
            kept read-only); the tracks to paste are still drawn for every
            target clip. The source video of each clip stays uniformly
            drawn, so the expected per-class paste counts (Eq. 6) are
            unchanged; the pastes of ``reuse_source`` consecutive clips of a
            worker are correlated (same source video and frames). 1 loads a
            fresh, independent source clip for every target clip, at the
            cost of up to one more clip loaded per clip. Defaults to 8
            (the cost target of docs/minor_paste.md).
    """

    def __init__(self,
                 prob: float = 1.0,
                 scale_range: Optional[Tuple[float, float]] = None,
                 random_offset: bool = False,
                 reuse_source: int = 8) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must lie in [0, 1], got {prob}')
        if int(reuse_source) != reuse_source or reuse_source < 1:
            raise ValueError('reuse_source must be an integer >= 1, got '
                             f'{reuse_source}')
        if scale_range is not None:
            scale_range = tuple(float(s) for s in scale_range)
            if len(scale_range) != 2 or not 0 < scale_range[0] <= \
                    scale_range[1]:
                raise ValueError('scale_range must be (min, max) with '
                                 f'0 < min <= max, got {scale_range}')
        self.prob = prob
        self.scale_range = scale_range
        self.random_offset = random_offset
        self.reuse_source = int(reuse_source)
        self._indexes = weakref.WeakKeyDictionary()
        self._last_index: Optional[_ClipIndex] = None
        self._plan: Optional[dict] = None
        # the source in use: dict(index, vidx, uses_left, clip)
        self._source: Optional[dict] = None
        #: Video index of the source drawn by the last :meth:`get_indexes`
        #: call (loaded or not), None if that target clip was not pasted
        #: onto. For diagnostics and tests.
        self.last_source_index: Optional[int] = None

    # ------------------------------------------------------------------
    # pickling (dataloader workers): the per-dataset cache is rebuilt
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_indexes'] = None
        state['_plan'] = None
        state['_source'] = None
        state['_last_index'] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._indexes = weakref.WeakKeyDictionary()

    # ------------------------------------------------------------------
    # hooks for subclasses
    def _is_source(self, tracks: Dict[int, int], stats: ClassStats) -> bool:
        """Whether a video with these tracks can be a source clip."""
        raise NotImplementedError

    def _select(self, tracks: Dict[int, int],
                stats: Optional[ClassStats]) -> List[int]:
        """Draw the instance ids to paste from ``instance_id -> label``."""
        raise NotImplementedError

    def _default_stats(self) -> Optional[ClassStats]:
        """Statistics to use when no dataset was seen. Defaults to None."""
        return None

    # ------------------------------------------------------------------
    # source clips through the dataset
    def clip_index(self, dataset) -> _ClipIndex:
        """The (cached) track index of ``dataset``, built on first use.

        Args:
            dataset: A video dataset (``len`` = number of videos,
                ``get_data_info(i)`` = one video dict of the mmdet video
                format, ``metainfo['classes']``).

        Returns:
            _ClipIndex: Track statistics, tracks per video and the video
            indexes that can be source clips.
        """
        try:
            index = self._indexes.get(dataset)
        except TypeError:  # not weak-referenceable
            index = None
        if index is not None:
            return index
        classes = dataset.metainfo['classes']
        tracks, video_ids = [], []
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            tracks.append(video_tracks(info))
            video_ids.append(info.get('video_id', i))
        labels = np.array([lab for t in tracks for lab in t.values()],
                          dtype=np.int64)
        if len(labels
               ) and not 0 <= labels.min() <= labels.max() < len(classes):
            raise ValueError(f'{type(self).__name__}: labels must lie in '
                             f'[0, {len(classes)}), got {labels.min()}..'
                             f'{labels.max()}')
        counts = np.bincount(labels, minlength=len(classes))
        stats = self._dataset_stats(counts, classes)
        sources = np.array(
            [i for i, t in enumerate(tracks) if self._is_source(t, stats)],
            dtype=np.int64)
        max_id = max((max(t) for t in tracks if t), default=0)
        index = _ClipIndex(stats, tracks, video_ids, sources, max_id)
        try:
            self._indexes[dataset] = index
        except TypeError:
            pass
        print_log(
            f'{type(self).__name__}: {len(sources)} of {len(tracks)} videos '
            f'are source clips; {int(stats.counts.sum())} tracks', 'current')
        return index

    def _dataset_stats(self, counts: np.ndarray,
                       classes: Sequence[str]) -> ClassStats:
        """Class statistics from the dataset's track counts."""
        return compute_class_stats(counts, names=classes)

    def get_indexes(self, dataset) -> List[int]:
        """Draw the source clip (a video index) for the next target clip.

        The tracks to paste are drawn here too (from the dataset's
        annotations), so that no source clip is loaded when nothing will be
        pasted; :meth:`transform` then pastes those of them that are in the
        sampled source frames. With ``reuse_source > 1`` a source video is
        kept for that many calls, and its clip is loaded only once.

        Args:
            dataset: The video dataset that the mixing wrapper wraps.

        Returns:
            list[int]: ``[video_index]`` when the source clip must be
            loaded, else ``[]`` (no paste, or the kept clip is reused).
        """
        index = self.clip_index(dataset)
        self._last_index = index
        self._plan = None
        self.last_source_index = None
        if len(index.sources) == 0 or np.random.rand() >= self.prob:
            return []
        source = self._source
        if (source is None or source['uses_left'] <= 0
                or source['index'] is not index):
            vidx = int(index.sources[np.random.randint(len(index.sources))])
            source = self._source = dict(
                index=index, vidx=vidx, uses_left=self.reuse_source, clip=None)
        source['uses_left'] -= 1
        vidx = self.last_source_index = source['vidx']
        selected = self._select(index.tracks[vidx], index.stats)
        if not selected:
            return []
        self._plan = dict(
            video_id=index.video_ids[vidx],
            ids=selected,
            max_id=index.max_instance_id,
            source=source)
        return [] if source['clip'] is not None else [vidx]

    # ------------------------------------------------------------------
    def transform(self, results: dict) -> dict:
        """Paste the chosen source tracks onto the target clip.

        Args:
            results (dict): The target clip (per-frame lists), with
                ``mix_results`` = ``[source clip]`` or ``[]``.

        Returns:
            dict: The updated target clip with ``paste_sources``.
        """
        num_frames = len(results['img'])
        done = results.get('paste_sources') or [{}]
        results['paste_sources'] = [dict(done[0]) for _ in range(num_frames)]
        plan, self._plan = self._plan, None
        mix = results.get('mix_results') or []
        if mix:
            src = mix[0]
        elif plan is not None and plan['source']['clip'] is not None:
            src = plan['source']['clip']  # the kept clip (reuse_source)
        else:
            return results
        src_vid = _first(src.get('video_id'))
        if (mix and plan is not None and self.reuse_source > 1
                and plan['video_id'] == src_vid
                and plan['source']['uses_left'] > 0):
            plan['source']['clip'] = _read_only(src)  # shared from here
        if src_vid is not None and src_vid == _first(results.get('video_id')):
            return results
        offered = _clip_tracks(src)
        if plan is not None and plan['video_id'] == src_vid:
            selected = [i for i in plan['ids'] if i in offered]
            id_floor = plan['max_id']
        else:
            stats = (
                self._last_index.stats
                if self._last_index is not None else self._default_stats())
            selected = self._select(offered, stats)
            id_floor = 0
        if selected:
            self._paste(results, src, selected, id_floor)
        return results

    def _source_crops(self, src: dict, selected: List[int],
                      frames: Sequence[int]) -> Dict[int, tuple]:
        """Crops of the selected tracks in the used source frames.

        Returns:
            dict[int, tuple]: ``st -> (rows, box, crop)`` for each source
            frame ``st`` where a selected track has pixels: ``rows`` (the
            rows of the pasted tracks, in selection order), ``box`` (their
            union's tight box ``x0, y0, x1, y1``) and ``crop`` (``(K, y1 -
            y0, x1 - x0)`` bool masks).
        """
        crops = {}
        for st in sorted(set(frames)):
            rows = _rows_of(src['gt_instances_ids'][st], selected)
            if not rows:
                continue
            masks = _mask_array(src, st)
            boxes = tight_boxes([masks[r] for r in rows])  # views, no copy
            boxes = boxes[boxes[:, 2] > boxes[:, 0]]
            if len(boxes) == 0:
                continue
            box = np.concatenate([boxes[:, :2].min(0),
                                  boxes[:, 2:].max(0)]).astype(np.int64)
            x0, y0, x1, y1 = box
            crops[st] = (rows, box, masks[:, y0:y1, x0:x1][rows].astype(bool))
        return crops

    def _draw_geometry(self, crops: Dict[int, tuple],
                       target_hw: Tuple[int, int]) -> Tuple[float, int, int]:
        """Draw the clip's scale ``s`` and offset ``(dx, dy)``.

        Args:
            crops (dict): See :meth:`_source_crops` (not empty).
            target_hw (tuple[int, int]): ``(H, W)`` of the target.

        Returns:
            tuple: ``(s, dx, dy)``.
        """
        scale = 1.0
        if self.scale_range is not None:
            scale = float(np.random.uniform(*self.scale_range))
        boxes = np.stack([box for _, box, _ in crops.values()])
        box = np.concatenate([boxes[:, :2].min(0), boxes[:, 2:].max(0)])
        box = np.floor(box * scale + 0.5).astype(np.int64)
        offsets = []
        for lo_edge, hi_edge, size in ((box[0], box[2], target_hw[1]),
                                       (box[1], box[3], target_hw[0])):
            lo, hi = sorted((-int(lo_edge), int(size - hi_edge)))
            if self.random_offset:
                offsets.append(int(np.random.randint(lo, hi + 1)))
            else:
                offsets.append(min(max(0, lo), hi))
        return scale, offsets[0], offsets[1]

    def _paste(self, results: dict, src: dict, selected: List[int],
               id_floor: int) -> None:
        """Paste ``selected`` source tracks onto every target frame."""
        for key in ('img', 'gt_masks', 'gt_instances_ids', 'gt_bboxes_labels'):
            for name, clip in (('target', results), ('source', src)):
                if key not in clip:
                    raise KeyError(f'{type(self).__name__}: the {name} clip '
                                   f'(video {_first(clip.get("video_id"))})'
                                   f' has no "{key}"')
        num_frames = len(results['img'])
        fmap = frame_mapping(num_frames, len(src['img']))
        crops = self._source_crops(src, selected, fmap)
        if not crops:
            return
        geometry = self._draw_geometry(crops, results['img'][0].shape[:2])
        base = max([id_floor] + [
            int(ids.max()) for ids in list(results['gt_instances_ids']) +
            list(src['gt_instances_ids']) if len(ids)
        ])
        new_ids = {iid: base + 1 + j for j, iid in enumerate(selected)}
        pasted = set()
        for t in range(num_frames):
            if fmap[t] in crops:
                pasted |= self._paste_frame(results, t, src, fmap[t],
                                            crops[fmap[t]], new_ids, geometry)
        src_vid = _plain(_first(src.get('video_id')))
        sources = {
            new_ids[i]: (src_vid, int(i))
            for i in selected if new_ids[i] in pasted
        }
        sources.update(results['paste_sources'][0])
        results['paste_sources'] = [dict(sources) for _ in range(num_frames)]

    def _place(self, crop: tuple, pixels: np.ndarray,
               geometry: Tuple[float, int, int], target_hw: Tuple[int, int]):
        """Scale a source crop and clip it to the target frame.

        Returns:
            tuple | None: ``(labels, pixels, (tx0, ty0))``: the label map
            (``(h, w)`` uint16, 0 = background, ``j + 1`` = ``j``-th row, the
            later rows on top), the crop's pixels ``(h, w, 3)`` and the
            top-left corner of the window in the target; None if nothing is
            left inside the target.
        """
        scale, dx, dy = geometry
        height, width = target_hw
        _, (x0, y0, x1, y1), masks = crop
        labels = np.zeros(masks.shape[1:], dtype=np.uint16)
        for j in range(len(masks)):
            labels[masks[j]] = j + 1
        if scale != 1.0:
            size = (max(1, int(round(
                (x1 - x0) * scale))), max(1, int(round((y1 - y0) * scale))))
            labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
            pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_LINEAR)
        px = int(np.floor(x0 * scale + 0.5)) + dx
        py = int(np.floor(y0 * scale + 0.5)) + dy
        tx0, ty0 = max(px, 0), max(py, 0)
        tx1 = min(px + labels.shape[1], width)
        ty1 = min(py + labels.shape[0], height)
        if tx1 <= tx0 or ty1 <= ty0:
            return None
        labels = labels[ty0 - py:ty1 - py, tx0 - px:tx1 - px]
        if not labels.any():
            return None
        pixels = pixels[ty0 - py:ty1 - py, tx0 - px:tx1 - px]
        return labels, pixels, (tx0, ty0)

    def _paste_frame(self, results: dict, t: int, src: dict, st: int,
                     crop: tuple, new_ids: Dict[int, int],
                     geometry: Tuple[float, int, int]) -> set:
        """Paste onto target frame ``t`` from source frame ``st``.

        Only the pasted window is touched, except for the masks of the
        occluded instances (their new boxes) and the output concatenation.

        Returns:
            set[int]: The new ids that got pixels in this frame.
        """
        img = results['img'][t]
        height, width = img.shape[:2]
        masks = _mask_array(results, t)
        if masks.shape[1:] != (height, width):
            raise ValueError(
                f'{type(self).__name__}: video '
                f'{_first(results.get("video_id"))}, frame index {t}: '
                f'gt_masks are {masks.shape[1:]} but img is '
                f'{(height, width)}')
        x0, y0, x1, y1 = crop[1]
        placed = self._place(crop, src['img'][st][y0:y1, x0:x1], geometry,
                             (height, width))
        if placed is None:
            return set()
        labels, pixels, (tx0, ty0) = placed
        union = labels > 0
        win = (slice(ty0,
                     ty0 + labels.shape[0]), slice(tx0, tx0 + labels.shape[1]))

        # pixels (in place, as mmcv transforms do)
        if not img.flags.writeable:
            img = img.copy()
        np.copyto(
            img[win],
            pixels.astype(img.dtype, copy=False),
            where=union[..., None])
        results['img'][t] = img

        # existing instances: remove the occluded parts, refit their boxes
        hit = np.flatnonzero(
            (masks[(slice(None), ) + win] & union).any(axis=(1, 2)))
        keep = np.ones(len(masks), dtype=bool)
        fields = {k: results[k][t] for k in _INSTANCE_KEYS if k in results}
        boxes = (
            _boxes_to_numpy(fields['gt_bboxes']).copy()
            if 'gt_bboxes' in fields else None)
        if len(hit):
            if not masks.flags.writeable:
                masks = masks.copy()
            for i in hit:
                np.copyto(masks[i][win], 0, where=union)
            hit_boxes = tight_boxes(masks[hit])
            keep[hit] = hit_boxes[:, 2] > hit_boxes[:, 0]
            if boxes is not None:
                boxes[hit] = hit_boxes

        # pasted instances, in the order of the crop's rows
        rows = crop[0]
        src_ids = np.asarray(src['gt_instances_ids'][st])
        src_labels = np.asarray(src['gt_bboxes_labels'][st])
        pasted = labels[None] == np.arange(
            1, len(rows) + 1, dtype=labels.dtype)[:, None, None]
        pasted_boxes = tight_boxes(pasted)
        shown = np.flatnonzero(pasted_boxes[:, 2] > pasted_boxes[:, 0])
        new_masks = pasted[shown]  # later rows may hide earlier ones
        new_boxes = pasted_boxes[shown] + np.array([tx0, ty0, tx0, ty0],
                                                   np.float32)
        new_labels = [src_labels[rows[j]] for j in shown]
        new_id_list = [new_ids[int(src_ids[rows[j]])] for j in shown]
        num_new = len(shown)

        # kept masks (views), then the pasted ones: BitmapMasks stacks them
        # into the new (N', H, W) array, the only full copy
        out = [masks[i] for i in np.flatnonzero(keep)]
        for m in new_masks:
            full = np.zeros((height, width), dtype=masks.dtype)
            full[win] = m
            out.append(full)
        results['gt_masks'][t] = BitmapMasks(out, height, width)
        if boxes is not None:
            results['gt_bboxes'][t] = _boxes_like(
                np.concatenate([boxes[keep], new_boxes]), fields['gt_bboxes'])
        lab = np.asarray(fields['gt_bboxes_labels'])
        results['gt_bboxes_labels'][t] = np.concatenate(
            [lab[keep], np.asarray(new_labels, dtype=lab.dtype)])
        ids = np.asarray(fields['gt_instances_ids'])
        results['gt_instances_ids'][t] = np.concatenate(
            [ids[keep], np.asarray(new_id_list, dtype=ids.dtype)])
        if 'gt_ignore_flags' in fields:
            flags = np.asarray(fields['gt_ignore_flags'])
            results['gt_ignore_flags'][t] = np.concatenate(
                [flags[keep],
                 np.zeros(num_new, dtype=flags.dtype)])
        return set(new_id_list)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'scale_range={self.scale_range}, '
                f'random_offset={self.random_offset}, '
                f'reuse_source={self.reuse_source})')


def _first(value):
    """First element of a per-frame list (or the value itself)."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _plain(value):
    """A numpy scalar as a Python scalar."""
    return value.item() if isinstance(value, np.generic) else value


def _read_only(clip: dict) -> dict:
    """Mark the frames and masks of a kept source clip read-only.

    A clip kept by ``reuse_source`` serves several target clips: a write
    into it would leak into the next ones, so it raises instead.
    """
    for img in clip.get('img', []):
        if isinstance(img, np.ndarray):
            img.flags.writeable = False
    for masks in clip.get('gt_masks', []):
        if isinstance(masks, BitmapMasks):
            masks.masks.flags.writeable = False
    return clip


def _mask_array(clip: dict, t: int) -> np.ndarray:
    """``(N, H, W)`` mask array of frame ``t``."""
    masks = clip['gt_masks'][t]
    if isinstance(masks, BitmapMasks):
        return masks.masks
    raise TypeError(f'gt_masks of video {_first(clip.get("video_id"))}, '
                    f'frame index {t} must be BitmapMasks, got '
                    f'{type(masks).__name__}')


def _rows_of(ids: np.ndarray, selected: List[int]) -> List[int]:
    """Rows of ``ids`` holding the ``selected`` ids, in selection order."""
    ids = np.asarray(ids).tolist()
    return [ids.index(i) for i in selected if i in ids]


def _clip_tracks(clip: dict) -> Dict[int, int]:
    """``instance_id -> label`` of the non-ignored instances of a clip."""
    tracks: Dict[int, int] = OrderedDict()
    for t in range(len(clip.get('gt_instances_ids', []))):
        ids = np.asarray(clip['gt_instances_ids'][t]).tolist()
        labels = np.asarray(clip['gt_bboxes_labels'][t]).tolist()
        flags = (
            np.asarray(clip['gt_ignore_flags'][t]).tolist()
            if 'gt_ignore_flags' in clip else [False] * len(ids))
        for iid, lab, ign in zip(ids, labels, flags):
            if not ign:
                tracks.setdefault(int(iid), int(lab))
    return tracks


@TRANSFORMS.register_module()
class MinorPaste(BaseClipPaste):
    """Minor-Paste (OOKD Sec. 3.4): paste minor-class tracks, Eq. 6.

    Source clips are the videos holding at least one track of a minor class
    (share ``p_c < minor_thr``), drawn uniformly; each of the source's
    minor-class tracks is pasted with probability
    ``p^s_c = k (max p - p_c) / (max p - min p)``. The statistics come from
    the instance tracks of the dataset given to :meth:`get_indexes`
    (computed once per dataset), or from ``class_counts``.

    Expected number of pasted tracks of class ``c`` per target clip:
    ``prob * p^s_c * mean_v n_{c,v}``, the mean over the source videos of
    their number of class-``c`` tracks present in the sampled frames.

    Args:
        k (float): Scale of Eq. 6. Defaults to 0.7.
        minor_thr (float): Share below which a class is minor.
            Defaults to 0.1.
        only_minor (bool): Offer only the minor-class tracks of a source
            clip. If False, every track of the source is pasted with its
            ``p^s_c``. Defaults to True.
        class_counts (Sequence[int], optional): Track counts per class
            (``(C,)``) to use instead of the dataset's. Defaults to None.
        **kwargs: ``prob``, ``scale_range``, ``random_offset``,
            ``reuse_source`` of :class:`BaseClipPaste`.
    """

    def __init__(self,
                 k: float = 0.7,
                 minor_thr: float = 0.1,
                 only_minor: bool = True,
                 class_counts: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= k <= 1.0:
            raise ValueError(f'MinorPaste: k must lie in [0, 1], got {k}')
        if not 0.0 <= minor_thr <= 1.0:
            raise ValueError('MinorPaste: minor_thr must lie in [0, 1], got '
                             f'{minor_thr}')
        self.k = k
        self.minor_thr = minor_thr
        self.only_minor = only_minor
        self.class_counts = (None if class_counts is None else
                             [int(c) for c in class_counts])

    def _stats_from_counts(self, counts, names=None) -> ClassStats:
        return compute_class_stats(
            counts, names=names, k=self.k, minor_thr=self.minor_thr)

    def _dataset_stats(self, counts, classes) -> ClassStats:
        if self.class_counts is not None:
            if len(self.class_counts) != len(classes):
                raise ValueError(
                    f'MinorPaste: class_counts has {len(self.class_counts)} '
                    f'entries but the dataset has {len(classes)} classes')
            counts = self.class_counts
        return self._stats_from_counts(counts, classes)

    def _default_stats(self) -> Optional[ClassStats]:
        if self.class_counts is None:
            return None
        return self._stats_from_counts(self.class_counts)

    def _is_source(self, tracks, stats) -> bool:
        return any(stats.minor[lab] for lab in tracks.values())

    def _select(self, tracks, stats) -> List[int]:
        if stats is None:
            raise RuntimeError(
                'MinorPaste needs class statistics: call get_indexes(dataset)'
                ' (ClipMixDataset does) or set class_counts')
        selected = []
        for iid, lab in tracks.items():
            if lab >= len(stats.minor):
                raise ValueError(f'MinorPaste: instance {iid} has label '
                                 f'{lab} but the statistics have '
                                 f'{len(stats.minor)} classes')
            if self.only_minor and not stats.minor[lab]:
                continue
            if np.random.rand() < stats.paste_probs[lab]:
                selected.append(iid)
        return selected

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] + f', k={self.k}, '
                f'minor_thr={self.minor_thr}, only_minor={self.only_minor})')


@TRANSFORMS.register_module()
class ClipPaste(BaseClipPaste):
    """Clip-Paste (TubeFormer-style): paste the tracks of a random clip.

    Any video with at least one track can be the source (drawn uniformly);
    its tracks, in random order, are each kept with ``paste_prob``, at most
    ``max_num_pasted`` of them.

    Args:
        paste_prob (float): Probability of pasting each track.
            Defaults to 1.0.
        max_num_pasted (int, optional): Most tracks pasted per clip.
            Defaults to None (no limit).
        **kwargs: ``prob``, ``scale_range``, ``random_offset``,
            ``reuse_source`` of :class:`BaseClipPaste`.
    """

    def __init__(self,
                 paste_prob: float = 1.0,
                 max_num_pasted: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= paste_prob <= 1.0:
            raise ValueError(f'paste_prob must lie in [0, 1], got '
                             f'{paste_prob}')
        if max_num_pasted is not None and max_num_pasted < 0:
            raise ValueError(f'max_num_pasted must be >= 0, got '
                             f'{max_num_pasted}')
        self.paste_prob = paste_prob
        self.max_num_pasted = max_num_pasted

    def _is_source(self, tracks, stats) -> bool:
        return len(tracks) > 0

    def _select(self, tracks, stats) -> List[int]:
        ids = list(tracks)
        order = np.random.permutation(len(ids))
        keep = np.random.rand(len(ids)) < self.paste_prob
        selected = [ids[i] for i in order if keep[i]]
        if self.max_num_pasted is not None:
            selected = selected[:self.max_num_pasted]
        return selected

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] + f', paste_prob={self.paste_prob}'
                f', max_num_pasted={self.max_num_pasted})')
