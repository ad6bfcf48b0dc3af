# Copyright (c) mmookd authors. All rights reserved.
"""``VISDataset``: the official YouTube-VIS / OVIS JSON files, read as is.

The official files hold one entry per *video* (``videos``), one entry per
*instance track* (``annotations``, with one segmentation / box / area per
frame, ``null`` where the instance is absent) and the ``categories``.
``VISDataset`` turns them straight into MMDetection's video data format, so
that ``UniformRefFrameSample``, ``TransformBroadcaster``,
``LoadTrackAnnotations``, ``PackTrackInputs``, ``TrackImgSampler`` and
``TrackAspectRatioBatchSampler`` work unchanged; no CocoVID conversion step
is needed.

One item of ``data_list`` (one video)::

    dict(video_id=int, video_length=int, is_long=bool,
         images=[frame dict, ...])

One frame dict::

    dict(img_path=str, img_id=int, video_id=int, frame_id=int,
         height=int, width=int, is_long=bool,
         instances=[dict(bbox=[x1, y1, x2, y2],   # float, absolute pixels
                         bbox_label=int,          # 0-based, by class name
                         mask=RLE dict | polygons,
                         instance_id=int,         # the YTVIS annotation id
                         ignore_flag=0 | 1), ...])  # 1 for iscrowd

``img_id`` is ``video_id * FRAME_ID_STRIDE + frame index`` (stride 10000):
unique, stable under subsets of a file, and invertible.
"""
import copy
import json
import math
import os
import os.path as osp
from numbers import Real
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Union

import mmengine.fileio as fileio
import pycocotools.mask as mask_utils
from mmdet.datasets import BaseVideoDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from ..utils.rle import rle_area, rle_problem
from .metainfo import VIS_METAINFO

LongVideoIds = Union[None, str, Iterable[int]]


class VISDatasetError(ValueError):
    """A YouTube-VIS / OVIS annotation file that cannot be read.

    The message names the file and, where they apply, the video id, the
    frame index and the annotation id at fault.
    """


def _normalize_name(name: str) -> str:
    """Category name key: case and ``' '`` vs ``'_'`` do not matter."""
    return str(name).strip().lower().replace(' ', '_')


@DATASETS.register_module()
class VISDataset(BaseVideoDataset):
    """Video instance segmentation dataset in the YouTube-VIS JSON format.

    Reads YouTube-VIS 2019 / 2021 / 2022, OVIS and SynthVIS annotation files
    directly (see the module docstring for what one video and one frame
    become). Category ids of the file are mapped to 0-based labels by the
    category *names* of the metainfo, so their order in the file does not
    matter.

    Args:
        ann_file (str): The annotation JSON, relative to ``data_root`` unless
            absolute. Validation / test files without ``annotations`` (as
            the public YTVIS and OVIS ones) load when ``test_mode=True``.
        dataset_version (str): One of ``'youtube_vis_2019'``,
            ``'youtube_vis_2021'``, ``'youtube_vis_2022'``, ``'ovis'``,
            ``'synthvis'``; selects the metainfo (classes) from
            ``mmookd.datasets.metainfo.VIS_METAINFO``. Defaults to
            ``'youtube_vis_2021'``.
        long_video_ids (str | Sequence[int], optional): The ids of the long
            videos (YTVIS-22 and SynthVIS validation sets hold short and long
            videos in one file). A sequence of ids, a path to a text file
            with one id per line (blank lines and ``#`` comments are
            skipped) or a path to a JSON annotation file whose ``videos`` are
            the long ones. A relative path is taken relative to
            ``data_root``, as ``ann_file``. The matching videos get
            ``is_long=True``; ``self.long_video_ids`` lists them. Defaults to
            None (every video is short).
        check_frames (bool): If True, check at initialisation that every
            frame file exists, is readable and is not empty, and raise a
            ``FileNotFoundError`` naming the path, video id and frame index
            of the faulty ones. Frames that exist but cannot be decoded are
            reported when loaded, by ``LoadVISFrame``. Defaults to False.
        metainfo (dict, optional): Overrides the metainfo of
            ``dataset_version``. If it sets ``classes``, categories of the
            file outside them are skipped (a subset of the classes is
            trained); otherwise every category of the file must be one of
            the version's classes.
        **kwargs: Passed to :class:`mmdet.datasets.BaseVideoDataset`
            (``data_root``, ``data_prefix=dict(img_path=...)``,
            ``filter_cfg``, ``pipeline``, ``test_mode``, ``backend_args``,
            ...).

    Note:
        Filtering (train mode only) follows ``BaseVideoDataset``:
        ``filter_cfg=None`` means ``dict(filter_empty_gt=True,
        min_size=32)``. Frames without instances are dropped unless
        ``filter_empty_gt=False``; frames whose shorter side is below
        ``min_size`` are dropped; videos left without frames are dropped. In
        test mode every frame of every video is kept.

        A frame's instance is present when its segmentation is not ``null``.
        A missing (``null``) box is computed from the mask. Boxes narrower or
        lower than one pixel, or outside the frame, are skipped as
        ``BaseVideoDataset`` does; negative sizes are errors. Uncompressed
        RLE masks are compressed (``counts`` becomes a string); compressed
        RLE and polygons are kept as they are.
    """

    #: ``img_id = video_id * FRAME_ID_STRIDE + frame index``.
    FRAME_ID_STRIDE = 10000
    #: Show a progress bar when a file has at least this many tracks.
    PROGRESS_MIN_TRACKS = 2000

    def __init__(self,
                 ann_file: str = '',
                 dataset_version: str = 'youtube_vis_2021',
                 long_video_ids: LongVideoIds = None,
                 check_frames: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if dataset_version not in VIS_METAINFO:
            raise ValueError(
                f'Unknown dataset_version {dataset_version!r}; expected one '
                f'of {sorted(VIS_METAINFO)}.')
        self.dataset_version = dataset_version
        self.check_frames = check_frames
        self._long_video_ids_arg = long_video_ids
        self._custom_classes = metainfo is not None and 'classes' in metainfo
        # Per-instance metainfo: the class attribute is never touched.
        merged = copy.deepcopy(VIS_METAINFO[dataset_version])
        if self._custom_classes and 'palette' not in metainfo:
            merged.pop('palette', None)
        if metainfo is not None:
            merged.update(metainfo)
        self.long_video_ids: List[int] = []
        super().__init__(ann_file=ann_file, metainfo=merged, **kwargs)
        self._metainfo['dataset_version'] = dataset_version

    # ------------------------------------------------------------------
    # loading
    # ------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read ``self.ann_file`` into one dict per video.

        Returns:
            list[dict]: ``dict(video_id, video_length, is_long, images)``
            per video, in the order of the file's ``videos``.
        """
        raw = self._load_json(self.ann_file)
        videos, annotations, categories = self._split_top_level(raw)
        self.cat2label = self._map_categories(categories)
        if categories:
            # the file's id of each label, for VISMetric's submission ids
            label2cat = [None] * len(self.metainfo.get('classes') or ())
            for cat_id, label in self.cat2label.items():
                if label >= 0:
                    label2cat[label] = cat_id
            self._metainfo['category_ids'] = label2cat
        video_infos = self._parse_videos(videos)
        self._empty_masks: List[str] = []
        self._add_annotations(annotations, video_infos)
        if self._empty_masks:
            print_log(
                f'{self.ann_file}: {len(self._empty_masks)} frame '
                'instance(s) have a segmentation whose mask is all zero; '
                'they are skipped as absent on those frames (whatever '
                f'their box): {", ".join(self._empty_masks[:5])}'
                f'{" ..." if len(self._empty_masks) > 5 else ""}',
                'current',
                level=30)
        self._mark_long_videos(video_infos)
        data_list = list(video_infos.values())
        if self.check_frames:
            self._check_frame_files(data_list)
        num_frames = sum(v['video_length'] for v in data_list)
        print_log(
            f'{self.ann_file}: {len(data_list)} videos, {num_frames} '
            f'frames, {len(annotations)} instance tracks '
            f'({len(self.long_video_ids)} long videos).', 'current')
        return data_list

    def _load_json(self, path: str) -> Any:
        """Load a JSON file, naming the file and position on failure."""
        try:
            text = fileio.get_text(path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f'Annotation file not found: {path}') from err
        except UnicodeDecodeError as err:
            raise VISDatasetError(
                f'{path}: not a UTF-8 text (JSON) file: byte {err.start} '
                f'is invalid ({err.reason}).') from err
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise VISDatasetError(
                f'{path}: invalid JSON at line {err.lineno}, column '
                f'{err.colno} (char {err.pos} of {len(text)}): {err.msg}. '
                'Is the file truncated or corrupt?') from err

    def _split_top_level(self, raw: Any) -> tuple:
        """Check the top-level keys and return (videos, anns, categories)."""
        if not isinstance(raw, dict):
            raise VISDatasetError(
                f'{self.ann_file}: expected a JSON object with the keys '
                f"'videos', 'annotations' and 'categories', got "
                f'{type(raw).__name__}.')
        required = ['videos']
        has_anns = bool(raw.get('annotations'))
        if has_anns or not self.test_mode:
            required += ['annotations', 'categories']
        missing = [k for k in required if raw.get(k) is None]
        if missing:
            hint = ('' if self.test_mode else
                    ' (files without annotations load only with '
                    'test_mode=True)')
            raise VISDatasetError(
                f'{self.ann_file}: missing top-level key(s) {missing}; '
                f'found {sorted(raw)}{hint}.')
        for key in ('videos', 'annotations', 'categories'):
            if raw.get(key) is not None and not isinstance(raw[key], list):
                raise VISDatasetError(
                    f"{self.ann_file}: '{key}' must be a list, got "
                    f'{type(raw[key]).__name__}.')
        return (raw['videos'], raw.get('annotations')
                or [], raw.get('categories') or [])

    def _map_categories(self, categories: List[dict]) -> Dict[int, int]:
        """Map the file's category ids to 0-based labels by name.

        Args:
            categories (list[dict]): The file's ``categories``.

        Returns:
            dict[int, int]: category id -> label, for the categories kept.
            Categories outside ``classes`` map to -1 (skipped) when the
            user set ``classes``; otherwise they are an error.
        """
        classes = self.metainfo.get('classes') or ()
        name2label = {_normalize_name(c): i for i, c in enumerate(classes)}
        cat2label, unknown = {}, []
        for cat in categories:
            if not isinstance(cat, dict) or 'id' not in cat \
                    or 'name' not in cat:
                raise VISDatasetError(
                    f"{self.ann_file}: each category needs 'id' and 'name', "
                    f'got {cat!r}.')
            label = name2label.get(_normalize_name(cat['name']), -1)
            if label < 0:
                unknown.append(cat['name'])
            cat2label[cat['id']] = label
        if unknown and not self._custom_classes:
            raise VISDatasetError(
                f'{self.ann_file}: categories {unknown} are not classes of '
                f"dataset_version='{self.dataset_version}' "
                f'({len(classes)} classes). Wrong dataset_version? To '
                'train on a subset of classes set metainfo=dict(classes=...).')
        if unknown:
            print_log(
                f'{self.ann_file}: annotations of categories {unknown} are '
                'skipped (not in metainfo classes).', 'current')
        return cat2label

    def _parse_videos(self, videos: List[dict]) -> Dict[int, dict]:
        """Build the video dicts with their frame dicts (no instances yet).

        Args:
            videos (list[dict]): The file's ``videos``.

        Returns:
            dict[int, dict]: video id -> video data dict.
        """
        img_prefix = self.data_prefix.get('img_path', None)
        video_infos = {}
        for index, video in enumerate(videos):
            where = f'{self.ann_file}: videos[{index}]'
            if not isinstance(video, dict):
                raise VISDatasetError(f'{where} is not a JSON object.')
            missing = [
                k for k in ('id', 'file_names', 'height', 'width')
                if k not in video
            ]
            if missing:
                raise VISDatasetError(
                    f'{where} (video id {video.get("id")}) misses the '
                    f'key(s) {missing}.')
            video_id, file_names = video['id'], video['file_names']
            where = f'{self.ann_file}: video id {video_id}'
            if not isinstance(video_id, int) or video_id < 0:
                raise VISDatasetError(
                    f'{where}: a video id must be a non-negative int.')
            if video_id in video_infos:
                raise VISDatasetError(f'{where} appears twice in videos.')
            if not isinstance(file_names, list) or not file_names:
                raise VISDatasetError(
                    f"{where}: 'file_names' must be a non-empty list.")
            for key in ('height', 'width'):
                value = video[key]
                if isinstance(value, bool) or not isinstance(value, int) \
                        or value <= 0:
                    raise VISDatasetError(
                        f"{where}: '{key}' must be a positive int, got "
                        f'{value!r} ({type(value).__name__}).')
            num_frames = len(file_names)
            if video.get('length') is not None and \
                    video['length'] != num_frames:
                raise VISDatasetError(
                    f"{where}: 'length' is {video['length']} but "
                    f"'file_names' has {num_frames} frames.")
            if num_frames >= self.FRAME_ID_STRIDE:
                raise VISDatasetError(
                    f'{where} has {num_frames} frames; VISDataset supports '
                    f'fewer than {self.FRAME_ID_STRIDE} (img_id = video_id '
                    '* FRAME_ID_STRIDE + frame index).')
            frames = []
            for frame_id, file_name in enumerate(file_names):
                img_path = (
                    osp.join(img_prefix, file_name)
                    if img_prefix is not None else file_name)
                frames.append(
                    dict(
                        img_path=img_path,
                        img_id=video_id * self.FRAME_ID_STRIDE + frame_id,
                        video_id=video_id,
                        frame_id=frame_id,
                        height=video['height'],
                        width=video['width'],
                        is_long=False,
                        instances=[]))
            video_infos[video_id] = dict(
                video_id=video_id,
                video_length=num_frames,
                is_long=False,
                images=frames)
        return video_infos

    def _add_annotations(self, annotations: List[dict],
                         video_infos: Dict[int, dict]) -> None:
        """Append every annotation's per-frame instances to its frames."""
        seen_ids: Set[int] = set()
        progress = (
            ProgressBar(len(annotations))
            if len(annotations) >= self.PROGRESS_MIN_TRACKS else None)
        for index, ann in enumerate(annotations):
            if progress is not None:
                progress.update()
            if not isinstance(ann, dict):
                raise VISDatasetError(
                    f'{self.ann_file}: annotations[{index}] is not a JSON '
                    'object.')
            missing = [
                k for k in ('id', 'video_id', 'category_id', 'segmentations')
                if k not in ann
            ]
            if missing:
                raise VISDatasetError(
                    f'{self.ann_file}: annotation id {ann.get("id")} '
                    f'(annotations[{index}], video id {ann.get("video_id")}) '
                    f'misses the key(s) {missing}.')
            ann_id, video_id = ann['id'], ann['video_id']
            if ann_id in seen_ids:
                raise VISDatasetError(
                    f'{self.ann_file}: annotation id {ann_id} (video id '
                    f'{video_id}) appears twice; instance ids must be '
                    'unique.')
            seen_ids.add(ann_id)
            if video_id not in video_infos:
                raise VISDatasetError(
                    f'{self.ann_file}: annotation id {ann_id} refers to '
                    f'video id {video_id}, which is not in videos.')
            if ann['category_id'] not in self.cat2label:
                raise VISDatasetError(
                    f'{self.ann_file}: annotation id {ann_id} (video id '
                    f'{video_id}) has unknown category id '
                    f"{ann['category_id']}; categories have ids "
                    f'{sorted(self.cat2label)}.')
            label = self.cat2label[ann['category_id']]
            if label < 0:
                continue
            frames = video_infos[video_id]['images']
            for frame_id, instance in self._parse_track(ann, frames, label):
                frames[frame_id]['instances'].append(instance)

    def _parse_track(self, ann: dict, frames: List[dict],
                     label: int) -> List[tuple]:
        """Turn one instance track into per-frame instance dicts.

        Args:
            ann (dict): One entry of the file's ``annotations``.
            frames (list[dict]): The frame dicts of its video.
            label (int): Its 0-based label.

        Returns:
            list[tuple[int, dict]]: ``(frame index, instance dict)`` for the
            frames where the instance is present.
        """
        ann_id, video_id = ann['id'], ann['video_id']
        num_frames = len(frames)
        where = (f'{self.ann_file}: annotation id {ann_id} '
                 f'(video id {video_id})')
        per_frame = {}
        for key in ('segmentations', 'bboxes', 'areas'):
            values = ann.get(key)
            if values is None and key != 'segmentations':
                values = [None] * num_frames
            if not isinstance(values, list):
                raise VISDatasetError(f"{where}: '{key}' must be a list.")
            if len(values) != num_frames:
                raise VISDatasetError(
                    f"{where}: '{key}' has {len(values)} entries but the "
                    f'video has {num_frames} frames.')
            per_frame[key] = values
        ignore_flag = 1 if ann.get('iscrowd', 0) else 0
        out = []
        for frame_id in range(num_frames):
            segm = per_frame['segmentations'][frame_id]
            if segm is None:
                continue
            height, width = frames[frame_id]['height'], frames[frame_id][
                'width']
            frame_where = f'{where}, frame {frame_id}'
            mask = self._normalize_mask(segm, height, width, frame_where)
            box = per_frame['bboxes'][frame_id]
            if self._mask_area(mask, height, width) == 0:
                # nothing to segment: the instance is absent on this frame
                self._empty_masks.append(
                    f'annotation id {ann_id} (video id {video_id}, frame '
                    f'{frame_id}, box {box})')
                continue
            if box is None:
                box = self._mask_to_box(mask, height, width)
            bbox = self._to_xyxy(box, height, width, frame_where)
            if bbox is None:
                continue
            out.append((frame_id,
                        dict(
                            bbox=bbox,
                            bbox_label=label,
                            mask=mask,
                            instance_id=ann_id,
                            ignore_flag=ignore_flag)))
        return out

    @staticmethod
    def _normalize_mask(segm: Any, height: int, width: int,
                        where: str) -> Union[dict, list]:
        """Return a mask form ``LoadTrackAnnotations`` accepts.

        Args:
            segm (dict | list): RLE (compressed or not) or polygons.
            height (int): Frame height.
            width (int): Frame width.
            where (str): Location for error messages.

        Returns:
            dict | list: Compressed RLE ``{'size': [h, w], 'counts': str}``
            or the polygons as given.
        """
        if isinstance(segm, dict):
            if 'counts' not in segm or 'size' not in segm:
                raise VISDatasetError(
                    f"{where}: an RLE mask needs 'size' and 'counts', got "
                    f'the keys {sorted(segm)}.')
            size = segm['size']
            if not isinstance(size, (list, tuple)) or len(size) != 2 or any(
                    isinstance(v, bool) or not isinstance(v, int)
                    for v in size):
                raise VISDatasetError(
                    f"{where}: an RLE 'size' must be [height, width] (two "
                    f'ints), got {size!r}.')
            size = [int(v) for v in size]
            if size != [height, width]:
                raise VISDatasetError(
                    f'{where}: mask size {size} differs from the video size '
                    f'[{height}, {width}] (height, width).')
            counts = segm['counts']
            if isinstance(counts, (list, str, bytes)):
                problem = rle_problem(counts, height, width)
                if problem is not None:
                    raise VISDatasetError(
                        f'{where}: corrupt RLE mask: {problem}; pycocotools '
                        'would decode it from memory outside the mask.')
            if isinstance(counts, list):
                rle = mask_utils.frPyObjects(segm, height, width)
                counts = rle['counts']
            if isinstance(counts, bytes):
                counts = counts.decode('ascii')
            if not isinstance(counts, str):
                raise VISDatasetError(
                    f"{where}: RLE 'counts' must be a string or a list of "
                    f'ints, got {type(counts).__name__}.')
            return dict(size=size, counts=counts)
        if isinstance(segm, list) and all(isinstance(p, list)
                                          for p in segm) and segm:
            for index, poly in enumerate(segm):
                if not all(
                        isinstance(v, Real) and not isinstance(v, bool)
                        and math.isfinite(v) for v in poly):
                    raise VISDatasetError(
                        f'{where}: polygon {index} holds a value that is '
                        f'not a finite number: {poly!r}.')
                if len(poly) < 6 or len(poly) % 2:
                    raise VISDatasetError(
                        f'{where}: polygon {index} has {len(poly)} '
                        'coordinates; a polygon needs at least 3 points '
                        '(x1, y1, x2, y2, x3, y3, ...).')
            return segm
        raise VISDatasetError(
            f'{where}: a segmentation must be an RLE dict, a list of '
            f'polygons or null, got {type(segm).__name__}.')

    @staticmethod
    def _mask_area(mask: Union[dict, list], height: int, width: int) -> int:
        """Foreground pixels of a normalised RLE dict or polygon mask."""
        if isinstance(mask, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(mask, height, width))
            return int(mask_utils.area(rle))
        return rle_area(mask['counts'])

    @staticmethod
    def _mask_to_box(mask: Union[dict, list], height: int,
                     width: int) -> List[float]:
        """Box ``[x, y, w, h]`` of an RLE dict or polygon mask."""
        if isinstance(mask, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(mask, height, width))
        else:
            rle = mask
        return [float(v) for v in mask_utils.toBbox(rle)]

    @staticmethod
    def _to_xyxy(box: Any, height: int, width: int,
                 where: str) -> Optional[List[float]]:
        """Convert ``[x, y, w, h]`` to ``[x1, y1, x2, y2]``.

        Returns:
            list[float] | None: The box, or None for a degenerate box
            (narrower or lower than 1 pixel, or outside the frame).
        """
        if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(
                isinstance(v, Real) for v in box):
            raise VISDatasetError(
                f'{where}: a box must be [x, y, w, h] (4 numbers), got '
                f'{box!r}.')
        x, y, w, h = (float(v) for v in box)
        if not all(math.isfinite(v) for v in (x, y, w, h)):
            raise VISDatasetError(
                f'{where}: the box {list(box)} holds a value that is not a '
                'finite number.')
        if w < 0 or h < 0:
            raise VISDatasetError(
                f'{where}: negative box size (w={w}, h={h}) in bbox '
                f'{list(box)}.')
        inter_w = max(0.0, min(x + w, width) - max(x, 0.0))
        inter_h = max(0.0, min(y + h, height) - max(y, 0.0))
        if w < 1 or h < 1 or inter_w * inter_h == 0:
            return None
        return [x, y, x + w, y + h]

    # ------------------------------------------------------------------
    # long videos
    # ------------------------------------------------------------------
    def _resolve(self, path: str) -> str:
        """A path relative to ``data_root``, as ``ann_file``."""
        if self.data_root and not osp.isabs(path) and '://' not in path:
            return fileio.join_path(self.data_root, path)
        return path

    def _read_long_video_ids(self, spec: LongVideoIds) -> Set[int]:
        """Parse ``long_video_ids`` (ids, a text file or a JSON file)."""
        if spec is None:
            return set()
        if not isinstance(spec, str):
            try:
                return {int(v) for v in spec}
            except (TypeError, ValueError) as err:
                raise VISDatasetError(
                    'long_video_ids must be a list of int video ids or a '
                    f'path, got {spec!r}.') from err
        path = self._resolve(spec)
        if path.endswith('.json'):
            raw = self._load_json(path)
            if not isinstance(raw, dict) or not isinstance(
                    raw.get('videos'), list):
                raise VISDatasetError(
                    f"{path}: a long-video JSON needs a 'videos' list.")
            return {int(v['id']) for v in raw['videos']}
        try:
            text = fileio.get_text(path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f'long_video_ids file not found: {path}') from err
        ids = set()
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            try:
                ids.add(int(line))
            except ValueError as err:
                raise VISDatasetError(
                    f'{path}, line {lineno}: {line!r} is not a video id '
                    '(one int per line expected).') from err
        return ids

    def _mark_long_videos(self, video_infos: Dict[int, dict]) -> None:
        """Set ``is_long`` and ``self.long_video_ids``."""
        long_ids = self._read_long_video_ids(self._long_video_ids_arg)
        absent = sorted(long_ids - set(video_infos))
        if absent:
            print_log(
                f'{self.ann_file}: {len(absent)} of the {len(long_ids)} '
                f'long_video_ids are not in this file (first: {absent[:5]}).',
                'current')
        self.long_video_ids = sorted(long_ids & set(video_infos))
        for video_id in self.long_video_ids:
            video = video_infos[video_id]
            video['is_long'] = True
            for frame in video['images']:
                frame['is_long'] = True

    # ------------------------------------------------------------------
    # frames on disk
    # ------------------------------------------------------------------
    def _frame_is_ok(self, path: str) -> bool:
        """Whether a frame file exists, is readable and not empty."""
        if self.backend_args is None and '://' not in path:
            return (osp.isfile(path) and os.access(path, os.R_OK)
                    and osp.getsize(path) > 0)
        return fileio.exists(path, backend_args=self.backend_args)

    def _check_frame_files(self, data_list: List[dict]) -> None:
        """Stat every frame; raise naming the missing or unreadable ones."""
        frames = [f for video in data_list for f in video['images']]
        print_log(f'Checking {len(frames)} frame files...', 'current')
        bad = []
        progress = ProgressBar(len(frames))
        for frame in frames:
            if not self._frame_is_ok(frame['img_path']):
                bad.append(frame)
            progress.update()
        if bad:
            listed = '\n'.join(
                f"  {f['img_path']} (video id {f['video_id']}, frame "
                f"{f['frame_id']})" for f in bad[:10])
            more = f'\n  ... and {len(bad) - 10} more' if len(bad) > 10 \
                else ''
            raise FileNotFoundError(
                f'{self.ann_file}: {len(bad)} frame file(s) missing, '
                f'unreadable or empty:\n{listed}{more}')

    # ------------------------------------------------------------------
    # filtering
    # ------------------------------------------------------------------
    def filter_data(self) -> List[dict]:
        """Filter frames (train mode) by ``filter_cfg``.

        ``filter_empty_gt`` (default True) drops frames without instances,
        ``min_size`` (default 32) drops frames whose shorter side is
        smaller. Videos left empty are dropped. Test mode keeps everything.

        Returns:
            list[dict]: The kept videos, with ``video_length`` updated.
        """
        if self.test_mode:
            return self.data_list
        cfg = self.filter_cfg or {}
        filter_empty = cfg.get('filter_empty_gt', True)
        min_size = cfg.get('min_size', 32)
        num_before = sum(len(v['images']) for v in self.data_list)
        kept_videos = []
        for video in self.data_list:
            frames = [
                f for f in video['images']
                if (f['instances'] or not filter_empty)
                and min(f['width'], f['height']) >= min_size
            ]
            if not frames:
                continue
            video['images'] = frames
            video['video_length'] = len(frames)
            kept_videos.append(video)
        num_after = sum(len(v['images']) for v in kept_videos)
        print_log(
            f'{self.ann_file}: frames before / after filtering: '
            f'{num_before} / {num_after} (videos {len(self.data_list)} / '
            f'{len(kept_videos)}).', 'current')
        return kept_videos

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def get_video_ids(self, long: Optional[bool] = None) -> List[int]:
        """Video ids of the dataset, optionally only long or short ones.

        Args:
            long (bool, optional): True for long videos only, False for
                short ones only, None for all. Defaults to None.

        Returns:
            list[int]: Video ids in dataset order.
        """
        ids = []
        for index in range(len(self)):
            info = self.get_data_info(index)
            if long is None or info['is_long'] == long:
                ids.append(info['video_id'])
        return ids


def frame_index_of(img_id: int,
                   stride: int = VISDataset.FRAME_ID_STRIDE) -> Sequence[int]:
    """Invert ``img_id = video_id * stride + frame index``.

    Args:
        img_id (int): A frame's ``img_id`` from :class:`VISDataset`.
        stride (int): ``VISDataset.FRAME_ID_STRIDE``.

    Returns:
        tuple[int, int]: ``(video_id, frame index)``.
    """
    return divmod(int(img_id), stride)
